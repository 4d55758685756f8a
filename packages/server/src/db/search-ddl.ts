// The full-text index of a collection's `search` fields, kept by the database itself so that every
// write (create, update, delete, batch) updates it in the same transaction:
// SQLite: an FTS5 external-content table fed by triggers; PostgreSQL: a trigger-kept tsvector + GIN.
// A table that already holds rows gets its index built in chunks (a row of `_search_builds`, driven
// by core/search-builds.ts), so a migration never indexes a whole table in one transaction.

import crypto from 'node:crypto';
import type { CollectionDef } from '../core/collection-model.ts';
import { columnType } from './column-types.ts';
import { quoteIdent as q, SqlParams, type Dialect, type Queryable } from './database.ts';

/**
 * Relevance weight of each `search` field by its position: the first field counts most. PostgreSQL
 * has four weight classes (A–D); SQLite's bm25 gets the same numbers, so both rank alike.
 */
export const SEARCH_WEIGHTS = [1.0, 0.4, 0.2, 0.1] as const;
const PG_WEIGHT_CLASSES = ['A', 'B', 'C', 'D'] as const;

/** PostgreSQL: the column holding the document. */
export const SEARCH_COLUMN = '_search';

/** SQLite: the FTS5 table of a collection (collection names never start with `_`). */
export function ftsTableName(collection: string): string {
  return `_fts_${collection}`;
}

/** PostgreSQL index and function names are schema-wide and at most 63 bytes: short, stable, per table. */
function shortHash(collection: string): string {
  return crypto.createHash('sha256').update(collection).digest('hex').slice(0, 12);
}

/** PostgreSQL: the GIN index of a collection. */
export function ginIndexName(collection: string): string {
  return `_fts_${collection.slice(0, 40)}_${shortHash(collection)}`;
}

/**
 * The tokenizer folds case and accents (`remove_diacritics 2`); counting combining marks as part of
 * words (`M*`) lets decomposed text (`u` + U+0308) fold like precomposed `ü` instead of splitting words.
 */
const FTS5_TOKENIZER = `unicode61 remove_diacritics 2 categories 'L* N* Co M*'`;

/** The table of builds in progress (system-schema step 11). */
const BUILDS = '"_search_builds"';

/** A build in progress: how far it got (see system-schema step 11 for `upto`). */
export interface SearchBuild {
  collection: string;
  build: string;
  /** rows: indexing rows; index (PostgreSQL): every row is indexed, the GIN index is being made. */
  phase: 'rows' | 'index';
  upto: number | string;
  indexed: number;
  total: number;
}

/** PostgreSQL: the trigger that computes `_search` (trigger names are per table). */
const PG_TRIGGER = '_galley_search';

/** PostgreSQL: the trigger function of a collection (function names are schema-wide). */
function pgFunctionName(collection: string): string {
  return `_ftsfn_${collection.slice(0, 40)}_${shortHash(collection)}`;
}

/**
 * SQLite: whether a row is covered by the index. While a build runs only rows up to its `upto` are
 * (the build inserts the others later); with no build row every row is. A trigger must not touch
 * a row the index does not hold: an FTS5 external-content 'delete' of a row never inserted
 * corrupts the index's counts.
 */
function sqliteCovered(def: CollectionDef, row: 'new' | 'old'): string {
  const name = `'${def.name.replace(/'/g, "''")}'`;
  return `${row}.rowid <= coalesce((SELECT "upto" FROM ${BUILDS} WHERE "collection" = ${name}), 9223372036854775807)`;
}

/** The index of a new (empty) table: complete at once. */
export async function createSearchIndex(tx: Queryable, def: CollectionDef): Promise<void> {
  if (def.search.length === 0) return;
  await createIndexStructures(tx, def);
  if (tx.dialect === 'postgres') await createGinIndex(tx, def, false);
}

/**
 * The index of a table that may hold rows (a migration): the structures, holding nothing yet, and
 * a build row saying so — first, since the triggers read it. The rows are indexed by indexChunk.
 */
export async function startSearchIndexBuild(tx: Queryable, def: CollectionDef): Promise<void> {
  if (def.search.length === 0) return;
  const count = await tx.get<{ n: number }>(`SELECT COUNT(*) AS "n" FROM ${q(def.name)}`);
  const now = new Date().toISOString();
  const p = new SqlParams(tx.dialect);
  await tx.run(
    `INSERT INTO ${BUILDS} ("collection", "build", "phase", "upto", "indexed", "total", "started", "updated")
     VALUES (${p.add(def.name)}, ${p.add(crypto.randomUUID())}, 'rows', ${p.add(tx.dialect === 'postgres' ? '' : 0)}, 0, ${p.add(Number(count?.n ?? 0))}, ${p.add(now)}, ${p.add(now)})`,
    p.values,
  );
  await createIndexStructures(tx, def);
}

async function createIndexStructures(tx: Queryable, def: CollectionDef): Promise<void> {
  if (tx.dialect === 'postgres') return createPostgresStructures(tx, def);
  const fts = q(ftsTableName(def.name));
  const cols = def.search.map(q);
  const colList = cols.join(', ');
  const newValues = cols.map((c) => `new.${c}`).join(', ');
  const oldValues = cols.map((c) => `old.${c}`).join(', ');
  const trigger = (suffix: string) => q(`${ftsTableName(def.name)}_${suffix}`);
  const weights = def.search.map((_, i) => SEARCH_WEIGHTS[Math.min(i, SEARCH_WEIGHTS.length - 1)]).join(', ');
  const deleteOld = `INSERT INTO ${fts} (${fts}, rowid, ${colList}) VALUES ('delete', old.rowid, ${oldValues});`;
  const insertNew = `INSERT INTO ${fts} (rowid, ${colList}) VALUES (new.rowid, ${newValues});`;
  // The collection table keeps its implicit rowid (its key is the text id): the index refers to it.
  // Updates never change a rowid, so the old row's coverage decides for both halves of an update.
  await tx.exec(`
CREATE VIRTUAL TABLE ${fts} USING fts5(${colList}, content=${q(def.name)}, tokenize="${FTS5_TOKENIZER}");
CREATE TRIGGER ${trigger('insert')} AFTER INSERT ON ${q(def.name)} WHEN ${sqliteCovered(def, 'new')} BEGIN ${insertNew} END;
CREATE TRIGGER ${trigger('delete')} AFTER DELETE ON ${q(def.name)} WHEN ${sqliteCovered(def, 'old')} BEGIN ${deleteOld} END;
CREATE TRIGGER ${trigger('update')} AFTER UPDATE OF ${colList} ON ${q(def.name)} WHEN ${sqliteCovered(def, 'old')} BEGIN ${deleteOld} ${insertNew} END;
INSERT INTO ${fts} (${fts}, rank) VALUES ('rank', 'bm25(${weights})');
`);
}

/** The tsvector of a row: `row` is '' (the table's own columns) or 'NEW.' (in the trigger). */
function postgresDocumentSql(def: CollectionDef, row: '' | 'NEW.'): string {
  // galley_fold (system-schema step 7) is lower(unaccent(x)).
  const parts = def.search.map((name, i) => {
    const text = `galley_fold(coalesce(${row}${q(name)}::text, ''))`;
    return `setweight(to_tsvector('simple'::regconfig, ${text}), '${PG_WEIGHT_CLASSES[Math.min(i, PG_WEIGHT_CLASSES.length - 1)]}')`;
  });
  return parts.join(' || ');
}

async function createPostgresStructures(tx: Queryable, def: CollectionDef): Promise<void> {
  // A nullable column without a default is added instantly (a generated one rewrites the table under
  // an exclusive lock). Rows written from now on get their document from the trigger; the rows
  // already there stay NULL (unmatched by every search) until indexChunk fills them in.
  const fn = q(pgFunctionName(def.name));
  await tx.exec(`ALTER TABLE ${q(def.name)} ADD COLUMN ${q(SEARCH_COLUMN)} tsvector`);
  await tx.exec(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $galley$
BEGIN
  NEW.${q(SEARCH_COLUMN)} := ${postgresDocumentSql(def, 'NEW.')};
  RETURN NEW;
END
$galley$`);
  const cols = def.search.map(q).join(', ');
  await tx.exec(`CREATE TRIGGER ${q(PG_TRIGGER)} BEFORE INSERT OR UPDATE OF ${cols} ON ${q(def.name)} FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
}

/**
 * PostgreSQL: the GIN index over `_search`. `concurrently` (a build's last step, on the Database
 * itself, outside any transaction) does not block writes; an earlier attempt that died midway
 * leaves an INVALID index of that name, which is dropped and made again.
 */
export async function createGinIndex(db: Queryable, def: CollectionDef, concurrently: boolean): Promise<void> {
  const name = ginIndexName(def.name);
  if (!concurrently) {
    await db.exec(`CREATE INDEX ${q(name)} ON ${q(def.name)} USING GIN (${q(SEARCH_COLUMN)})`);
    return;
  }
  const p = new SqlParams(db.dialect);
  const existing = await db.get<{ valid: boolean }>(`SELECT "indisvalid" AS "valid" FROM pg_index WHERE "indexrelid" = to_regclass(${p.add(q(name))})`, p.values);
  if (existing?.valid) return;
  if (existing) await db.exec(`DROP INDEX CONCURRENTLY IF EXISTS ${q(name)}`);
  await db.exec(`CREATE INDEX CONCURRENTLY ${q(name)} ON ${q(def.name)} USING GIN (${q(SEARCH_COLUMN)})`);
}

/** The build of `collection`, if one is running; `lock` (PostgreSQL) holds its row until the transaction ends. */
export async function readSearchBuild(tx: Queryable, collection: string, lock = false): Promise<SearchBuild | undefined> {
  const p = new SqlParams(tx.dialect);
  const row = await tx.get<SearchBuild>(
    `SELECT "collection", "build", "phase", "upto", "indexed", "total" FROM ${BUILDS} WHERE "collection" = ${p.add(collection)}${lock && tx.dialect === 'postgres' ? ' FOR UPDATE' : ''}`,
    p.values,
  );
  return row && { ...row, indexed: Number(row.indexed), total: Number(row.total) };
}

/** Every build running, by collection (for listing collections). */
export async function readSearchBuilds(db: Queryable): Promise<Map<string, SearchBuild>> {
  const rows = await db.all<SearchBuild>(`SELECT "collection", "build", "phase", "upto", "indexed", "total" FROM ${BUILDS}`);
  return new Map(rows.map((r) => [r.collection, { ...r, indexed: Number(r.indexed), total: Number(r.total) }]));
}

/**
 * Indexes the next rows of `build` — at most `limit`, in key order after `upto` — and advances it.
 * Returns how many it indexed: fewer than `limit` means every row is covered now (rows written
 * meanwhile were indexed by the triggers, or come after `upto` and were taken here).
 */
export async function indexChunk(tx: Queryable, def: CollectionDef, build: SearchBuild, limit: number): Promise<number> {
  const table = q(def.name);
  // The chunk's last key first, so the write below is one range (on PostgreSQL compared in the
  // table's collation, as the primary key index orders ids).
  const key = tx.dialect === 'postgres' ? '"id"' : 'rowid';
  const p = new SqlParams(tx.dialect);
  const chunk = await tx.get<{ last: number | string | null; n: number }>(
    `SELECT max("k") AS "last", COUNT(*) AS "n" FROM (SELECT ${key} AS "k" FROM ${table} WHERE ${key} > ${p.add(build.upto)} ORDER BY ${key} LIMIT ${p.add(limit)}) AS "chunk"`,
    p.values,
  );
  const n = Number(chunk?.n ?? 0);
  if (n > 0) {
    const range = new SqlParams(tx.dialect);
    const where = `${key} > ${range.add(build.upto)} AND ${key} <= ${range.add(chunk!.last)}`;
    if (tx.dialect === 'postgres') {
      // The trigger fires only on updates of the searched columns, so this computes each document once.
      await tx.run(`UPDATE ${table} SET ${q(SEARCH_COLUMN)} = ${postgresDocumentSql(def, '')} WHERE ${where}`, range.values);
    } else {
      const fts = q(ftsTableName(def.name));
      const cols = def.search.map(q).join(', ');
      await tx.run(`INSERT INTO ${fts} (rowid, ${cols}) SELECT rowid, ${cols} FROM ${table} WHERE ${where}`, range.values);
    }
  }
  const u = new SqlParams(tx.dialect);
  const phase = n < limit && tx.dialect === 'postgres' ? 'index' : 'rows';
  await tx.run(
    `UPDATE ${BUILDS} SET "upto" = ${u.add(n > 0 ? chunk!.last : build.upto)}, "indexed" = "indexed" + ${u.add(n)}, "phase" = ${u.add(phase)}, "updated" = ${u.add(new Date().toISOString())}
     WHERE "collection" = ${u.add(def.name)}`,
    u.values,
  );
  return n;
}

/** The build of `collection` is complete: its row goes (SQLite's triggers then cover every row). */
export async function endSearchBuild(tx: Queryable, collection: string): Promise<void> {
  const p = new SqlParams(tx.dialect);
  await tx.run(`DELETE FROM ${BUILDS} WHERE "collection" = ${p.add(collection)}`, p.values);
}

/** Removes the index of `def` (as it is before a migration, or before its table is dropped), and any build of it. */
export async function dropSearchIndex(tx: Queryable, def: CollectionDef): Promise<void> {
  if (def.search.length === 0) return;
  // The build row goes first: a build's chunk locks it before the table, so taking them in the
  // same order here cannot deadlock with one (PostgreSQL).
  await endSearchBuild(tx, def.name);
  if (tx.dialect === 'postgres') {
    await tx.exec(`DROP TRIGGER IF EXISTS ${q(PG_TRIGGER)} ON ${q(def.name)}`);
    await tx.exec(`ALTER TABLE ${q(def.name)} DROP COLUMN IF EXISTS ${q(SEARCH_COLUMN)}`);
    await tx.exec(`DROP FUNCTION IF EXISTS ${q(pgFunctionName(def.name))}()`);
    return;
  }
  // Dropping the FTS5 table leaves the triggers writing into nothing: drop them first.
  for (const suffix of ['insert', 'delete', 'update']) await tx.exec(`DROP TRIGGER IF EXISTS ${q(`${ftsTableName(def.name)}_${suffix}`)}`);
  await tx.exec(`DROP TABLE IF EXISTS ${q(ftsTableName(def.name))}`);
}

/**
 * Whether a migration from `before` to `after` must rebuild the index: the table, the list of
 * searched fields, or the name or storage of one of them changes. Anything else leaves it as it is.
 */
export function searchIndexChanges(before: CollectionDef, after: CollectionDef, dialect: Dialect): boolean {
  const signature = (def: CollectionDef) =>
    JSON.stringify([def.name, def.search.map((name) => {
      const field = def.fields.find((f) => f.name === name)!;
      return [field.id, name, columnType(field, dialect)];
    })]);
  return signature(before) !== signature(after);
}
