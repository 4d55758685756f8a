// Builds the reference database from Galley's own rows (same ids, timestamps and values), on SQLite
// or PostgreSQL, with the schema, the (status, created, id) index and the full-text index of title
// and body (weighted 1.0 and 0.4, as Galley's) that the reference servers expect.

// The same better-sqlite3 build Galley loads for this Node version (12 on Node 20, 13 on Node ≥ 22).
import { SqliteDriver as Database } from '../../packages/server/src/db/sqlite.ts';
import pg from 'pg';
import { COLUMNS as COLUMN_LIST, type PostRow } from '../reference/common.ts';

const COLUMNS = COLUMN_LIST.split(', ');
const values = (r: PostRow) => [r.id, r.created, r.updated, r.title, r.body, r.status, r.price, r.category, r.featured];
/**
 * Rows per transaction while loading: Galley was seeded 100 creates per batch, each batch one
 * transaction that its index triggers write into; loading the same way gives both full-text
 * indexes the same shape (FTS5 segments, GIN pending lists), not a freshly optimised one for the reference.
 */
const LOAD_CHUNK = 100;

/** Galley's FTS5 tokenizer (db/search-ddl.ts): case and accents folded, combining marks inside words. */
const FTS5_TOKENIZER = `unicode61 remove_diacritics 2 categories 'L* N* Co M*'`;

export function buildSqliteReference(file: string, rows: readonly PostRow[]): void {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(`CREATE TABLE posts (id TEXT PRIMARY KEY, created TEXT NOT NULL, updated TEXT NOT NULL,
      title TEXT, body TEXT, status TEXT, price REAL, category TEXT, featured INTEGER)`);
    db.exec('CREATE INDEX posts_status_created ON posts (status, created, id)');
    // External content (the index refers to posts' rowids), kept by a trigger as Galley's is; bm25
    // weighs a title word 1.0 and a body word 0.4.
    db.exec(`CREATE VIRTUAL TABLE posts_fts USING fts5(title, body, content=posts, tokenize="${FTS5_TOKENIZER}");
      CREATE TRIGGER posts_fts_insert AFTER INSERT ON posts BEGIN INSERT INTO posts_fts (rowid, title, body) VALUES (new.rowid, new.title, new.body); END;
      INSERT INTO posts_fts (posts_fts, rank) VALUES ('rank', 'bm25(1.0, 0.4)');`);
    const insert = db.prepare(`INSERT INTO posts (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`);
    const load = db.transaction((part: readonly PostRow[]) => {
      for (const row of part) insert.run(...values(row).map((v) => (typeof v === 'boolean' ? Number(v) : v)));
    });
    for (let start = 0; start < rows.length; start += LOAD_CHUNK) load(rows.slice(start, start + LOAD_CHUNK));
  } finally {
    db.close();
  }
}

export async function buildPgReference(url: string, rows: readonly PostRow[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE TABLE posts (id TEXT PRIMARY KEY, created TIMESTAMPTZ NOT NULL, updated TIMESTAMPTZ NOT NULL,
      title TEXT, body TEXT, status TEXT, price DOUBLE PRECISION, category TEXT, featured BOOLEAN, search TSVECTOR)`);
    await client.query('CREATE INDEX posts_status_created ON posts (status, created, id)');
    // Folding as Galley's galley_fold: lower(unaccent(…)), immutable so that a query's folded words are computed once.
    await client.query('CREATE EXTENSION IF NOT EXISTS unaccent');
    await client.query(`CREATE FUNCTION fold_text(TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
      AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$`);
    // The document: title in weight class A, body in B (ts_rank's default weights 1.0 and 0.4), kept by a trigger.
    await client.query(`CREATE FUNCTION posts_search() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.search := setweight(to_tsvector('simple'::regconfig, fold_text(coalesce(NEW.title, ''))), 'A')
          || setweight(to_tsvector('simple'::regconfig, fold_text(coalesce(NEW.body, ''))), 'B');
        RETURN NEW;
      END $$`);
    await client.query('CREATE TRIGGER posts_search BEFORE INSERT OR UPDATE OF title, body ON posts FOR EACH ROW EXECUTE FUNCTION posts_search()');
    await client.query('CREATE INDEX posts_search_gin ON posts USING GIN (search)');
    for (let start = 0; start < rows.length; start += LOAD_CHUNK) {
      const part = rows.slice(start, start + LOAD_CHUNK);
      const placeholders = part.map((_, i) => `(${COLUMNS.map((__, j) => `$${i * COLUMNS.length + j + 1}`).join(', ')})`);
      await client.query(`INSERT INTO posts (${COLUMNS.join(', ')}) VALUES ${placeholders.join(', ')}`, part.flatMap(values));
    }
  } finally {
    await client.end();
  }
}
