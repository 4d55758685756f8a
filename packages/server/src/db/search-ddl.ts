// The full-text index of a collection's `search` fields, kept by the database itself so that every
// write (create, update, delete, batch, migration) updates it in the same transaction:
// SQLite: an FTS5 external-content table fed by triggers; PostgreSQL: a generated tsvector + GIN.

import crypto from 'node:crypto';
import type { CollectionDef } from '../core/collection-model.ts';
import { columnType } from './column-types.ts';
import { quoteIdent as q, type Dialect, type Queryable } from './database.ts';

/**
 * Relevance weight of each `search` field by its position: the first field counts most. PostgreSQL
 * has four weight classes (A–D); SQLite's bm25 gets the same numbers, so both rank alike.
 */
export const SEARCH_WEIGHTS = [1.0, 0.4, 0.2, 0.1] as const;
const PG_WEIGHT_CLASSES = ['A', 'B', 'C', 'D'] as const;

/** PostgreSQL: the generated column holding the document. */
export const SEARCH_COLUMN = '_search';

/** SQLite: the FTS5 table of a collection (collection names never start with `_`). */
export function ftsTableName(collection: string): string {
  return `_fts_${collection}`;
}

/** PostgreSQL index names are schema-wide and at most 63 bytes: short, stable, per table. */
function ginIndexName(collection: string): string {
  const hash = crypto.createHash('sha256').update(collection).digest('hex').slice(0, 12);
  return `_fts_${collection.slice(0, 40)}_${hash}`;
}

/**
 * The tokenizer folds case and accents (`remove_diacritics 2`); counting combining marks as part of
 * words (`M*`) lets decomposed text (`u` + U+0308) fold like precomposed `ü` instead of splitting words.
 */
const FTS5_TOKENIZER = `unicode61 remove_diacritics 2 categories 'L* N* Co M*'`;

export async function createSearchIndex(tx: Queryable, def: CollectionDef): Promise<void> {
  if (def.search.length === 0) return;
  if (tx.dialect === 'postgres') return createPostgresIndex(tx, def);
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
  await tx.exec(`
CREATE VIRTUAL TABLE ${fts} USING fts5(${colList}, content=${q(def.name)}, tokenize="${FTS5_TOKENIZER}");
CREATE TRIGGER ${trigger('insert')} AFTER INSERT ON ${q(def.name)} BEGIN ${insertNew} END;
CREATE TRIGGER ${trigger('delete')} AFTER DELETE ON ${q(def.name)} BEGIN ${deleteOld} END;
CREATE TRIGGER ${trigger('update')} AFTER UPDATE OF ${colList} ON ${q(def.name)} BEGIN ${deleteOld} ${insertNew} END;
INSERT INTO ${fts} (${fts}, rank) VALUES ('rank', 'bm25(${weights})');
INSERT INTO ${fts} (${fts}) VALUES ('rebuild');
`);
}

async function createPostgresIndex(tx: Queryable, def: CollectionDef): Promise<void> {
  // galley_fold (system-schema step 7) is lower(unaccent(x)), declared IMMUTABLE so it may generate a column.
  const parts = def.search.map((name, i) => {
    const text = `galley_fold(coalesce(${q(name)}::text, ''))`;
    return `setweight(to_tsvector('simple'::regconfig, ${text}), '${PG_WEIGHT_CLASSES[Math.min(i, PG_WEIGHT_CLASSES.length - 1)]}')`;
  });
  await tx.exec(`ALTER TABLE ${q(def.name)} ADD COLUMN ${q(SEARCH_COLUMN)} tsvector GENERATED ALWAYS AS (${parts.join(' || ')}) STORED`);
  await tx.exec(`CREATE INDEX ${q(ginIndexName(def.name))} ON ${q(def.name)} USING GIN (${q(SEARCH_COLUMN)})`);
}

/** Removes the index of `def` (as it is before a migration, or before its table is dropped). */
export async function dropSearchIndex(tx: Queryable, def: CollectionDef): Promise<void> {
  if (def.search.length === 0) return;
  if (tx.dialect === 'postgres') {
    await tx.exec(`ALTER TABLE ${q(def.name)} DROP COLUMN IF EXISTS ${q(SEARCH_COLUMN)}`);
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
