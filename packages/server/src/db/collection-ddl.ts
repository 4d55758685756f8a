// DDL for collection tables: create, drop, and migrate in place from one definition to the next
// (add, rename, drop and retype columns; indexes), keeping every other value. Runs inside a transaction.

import crypto from 'node:crypto';
import { ApiError } from '../core/api-error.ts';
import type { CollectionDef, FieldDef, IndexDef } from '../core/collection-model.ts';
import { convertValue } from '../core/field-conversion.ts';
import { columnType, decodeValue, encodeValue, timestampColumnType } from './column-types.ts';
import { quoteIdent as q, SqlParams, UniqueViolationError, type Dialect, type Queryable } from './database.ts';
import { createSearchIndex, dropSearchIndex, searchIndexChanges, startSearchIndexBuild } from './search-ddl.ts';

/** Account columns of the built-in `users` table; never exposed as record fields. */
export function accountColumnsSql(dialect: Dialect): string[] {
  const pg = dialect === 'postgres';
  return [
    `"email" TEXT NOT NULL`,
    `"password_hash" TEXT NOT NULL`,
    `"verified" ${pg ? 'BOOLEAN NOT NULL DEFAULT FALSE' : 'INTEGER NOT NULL DEFAULT 0'}`,
    `"roles" ${pg ? "JSONB NOT NULL DEFAULT '[]'::jsonb" : "TEXT NOT NULL DEFAULT '[]'"}`,
  ];
}

function indexName(table: string, index: IndexDef): string {
  // PostgreSQL index names are schema-wide and at most 63 bytes: derive a short, stable name.
  const hash = crypto.createHash('sha256').update(JSON.stringify([table, index.fields, !!index.unique])).digest('hex').slice(0, 12);
  return `idx_${table.slice(0, 40)}_${hash}`;
}

/** Every table gets (created, id): the default sort, and keyset pagination over it, stay index-only. */
function allIndexes(def: CollectionDef): IndexDef[] {
  return [{ fields: ['created', 'id'] }, ...def.indexes];
}

function createIndexSql(def: CollectionDef, index: IndexDef): string {
  // Every sort ends with `id` (record-query.ts), so a plain index ends with it too: a list sorted by
  // its fields, and each keyset page after a cursor, is then read in index order with no sort step.
  const fields = index.unique || index.fields.includes('id') ? index.fields : [...index.fields, 'id'];
  const cols = fields.map(q).join(', ');
  return `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX ${q(indexName(def.name, index))} ON ${q(def.name)} (${cols})`;
}

export async function createCollectionTable(tx: Queryable, def: CollectionDef, withAccountColumns = false): Promise<void> {
  const ts = timestampColumnType(tx.dialect);
  const columns = [
    `"id" TEXT PRIMARY KEY`,
    `"created" ${ts} NOT NULL`,
    `"updated" ${ts} NOT NULL`,
    ...(withAccountColumns ? accountColumnsSql(tx.dialect) : []),
    ...def.fields.map((f) => `${q(f.name)} ${columnType(f, tx.dialect)}`),
  ];
  await tx.exec(`CREATE TABLE ${q(def.name)} (${columns.join(', ')})`);
  if (withAccountColumns) await tx.exec(`CREATE UNIQUE INDEX ${q(`${def.name}_email`)} ON ${q(def.name)} ("email")`);
  for (const index of allIndexes(def)) await createIndex(tx, def, index);
  await createSearchIndex(tx, def);
}

async function createIndex(tx: Queryable, def: CollectionDef, index: IndexDef): Promise<void> {
  try {
    await tx.exec(createIndexSql(def, index));
  } catch (err) {
    if (err instanceof UniqueViolationError) {
      throw new ApiError('conflict', `existing records hold duplicate values for the unique index on ${index.fields.join(', ')}`, [
        { field: index.fields.join(','), code: 'not_unique', message: 'existing records hold duplicate values' },
      ]);
    }
    throw err;
  }
}

export async function dropCollectionTable(tx: Queryable, def: CollectionDef): Promise<void> {
  await dropSearchIndex(tx, def);
  await tx.exec(`DROP TABLE ${q(def.name)}`);
}

const sameStorage = (a: FieldDef, b: FieldDef, d: Dialect) =>
  columnType(a, d) === columnType(b, d) && !!a.multiple === !!b.multiple && (a.type === 'json') === (b.type === 'json');

/**
 * Migrates the table of `before` to `after`. Fields are matched by id: a field whose id is kept but
 * whose name changes is renamed; one whose storage changes is converted value by value (in JS, so
 * both databases convert identically), and the whole migration fails if any value cannot convert.
 */
export async function migrateCollectionTable(tx: Queryable, before: CollectionDef, after: CollectionDef): Promise<void> {
  const d = tx.dialect;
  const table = after.name;
  const renamedTable = before.name !== after.name;
  const beforeIndexes = new Map(allIndexes(before).map((i) => [indexName(before.name, i), i]));
  const afterIndexes = new Map(allIndexes(after).map((i) => [indexName(after.name, i), i]));

  const beforeById = new Map(before.fields.map((f) => [f.id, f]));
  const afterById = new Map(after.fields.map((f) => [f.id, f]));
  const renames = after.fields.flatMap((field) => {
    const old = beforeById.get(field.id);
    return old && old.name !== field.name ? [{ from: old.name, to: field.name, parked: `__galley_rename_${field.id}` }] : [];
  });
  // An index over a renamed column is rebuilt: one kept by name could cover another column now
  // (two fields that swap names keep their index names but not their columns).
  const touchesRename = (index: IndexDef, side: 'from' | 'to') => index.fields.some((f) => renames.some((r) => r[side] === f));

  // Indexes go first: SQLite cannot drop or retype a column an index still covers. The search index
  // is remade only when what it covers changes; its rows are indexed afterwards, in chunks, by a
  // build (core/search-builds.ts), not in this transaction.
  const rebuildSearch = searchIndexChanges(before, after, d);
  if (rebuildSearch) await dropSearchIndex(tx, before);
  for (const [name, index] of beforeIndexes) {
    if (renamedTable || !afterIndexes.has(name) || touchesRename(index, 'from')) await tx.exec(`DROP INDEX ${q(name)}`);
  }
  if (renamedTable) await tx.exec(`ALTER TABLE ${q(before.name)} RENAME TO ${q(table)}`);

  for (const old of before.fields) {
    if (!afterById.has(old.id)) await tx.exec(`ALTER TABLE ${q(table)} DROP COLUMN ${q(old.name)}`);
  }
  // Renames go through a parked name first, so fields may swap or rotate names.
  for (const r of renames) await tx.exec(`ALTER TABLE ${q(table)} RENAME COLUMN ${q(r.from)} TO ${q(r.parked)}`);
  for (const r of renames) await tx.exec(`ALTER TABLE ${q(table)} RENAME COLUMN ${q(r.parked)} TO ${q(r.to)}`);
  for (const field of after.fields) {
    const old = beforeById.get(field.id);
    if (!old) {
      await tx.exec(`ALTER TABLE ${q(table)} ADD COLUMN ${q(field.name)} ${columnType(field, d)}`);
      continue;
    }
    if (!sameStorage(old, field, d)) await retypeColumn(tx, table, { ...old, name: field.name }, field);
  }

  for (const [name, index] of afterIndexes) {
    if (renamedTable || !beforeIndexes.has(name) || touchesRename(index, 'to')) await createIndex(tx, after, index);
  }
  if (rebuildSearch) await startSearchIndexBuild(tx, after);
}

async function retypeColumn(tx: Queryable, table: string, old: FieldDef, field: FieldDef): Promise<void> {
  const d = tx.dialect;
  const temp = `${field.name}__galley_retype`;
  const rows = await tx.all<{ id: string; v: unknown }>(`SELECT "id", ${q(old.name)} AS "v" FROM ${q(table)}`);
  const converted: Array<[string, unknown]> = [];
  let failures = 0;
  for (const row of rows) {
    const result = convertValue(old, field, decodeValue(old, row.v, d));
    if (!result.ok) failures++;
    else converted.push([row.id, encodeValue(field, result.value, d)]);
  }
  if (failures > 0) {
    throw ApiError.validation([
      { field: field.name, code: 'cannot_convert', message: `${failures} record(s) hold values that cannot become ${field.multiple ? 'multiple ' : ''}${field.type}` },
    ]);
  }
  await tx.exec(`ALTER TABLE ${q(table)} ADD COLUMN ${q(temp)} ${columnType(field, d)}`);
  for (const [id, value] of converted) {
    if (value === null) continue;
    const params = new SqlParams(d);
    await tx.run(`UPDATE ${q(table)} SET ${q(temp)} = ${params.add(value)} WHERE "id" = ${params.add(id)}`, params.values);
  }
  await tx.exec(`ALTER TABLE ${q(table)} DROP COLUMN ${q(old.name)}`);
  await tx.exec(`ALTER TABLE ${q(table)} RENAME COLUMN ${q(temp)} TO ${q(field.name)}`);
}
