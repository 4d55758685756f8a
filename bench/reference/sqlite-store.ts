// The reference's SQL on SQLite: better-sqlite3 (WAL, prepared statements, Galley's pragmas), the
// fastest plain way to run the benchmark's queries. Served by sqlite-server.ts; bench/profile uses it in-process.

// The same better-sqlite3 build Galley loads for this Node version (12 on Node 20, 13 on Node ≥ 22).
import { SqliteDriver as Database } from '../../packages/server/src/db/sqlite.ts';
import { COLUMNS, type FacetCount, type ListQuery, type PostRow, type PostStore, type RankedRow, type SearchQuery } from './common.ts';

type StoredRow = Omit<PostRow, 'featured'> & { featured: number | null };
const POST_COLUMNS = COLUMNS.split(', ').map((c) => `p.${c}`).join(', ');
const FROM_MATCHES = 'FROM posts p JOIN posts_fts ON posts_fts.rowid = p.rowid';

/** SQLite keeps booleans as 0/1. */
const post = <T extends StoredRow>(row: T): Omit<T, 'featured'> & { featured: boolean | null } => ({ ...row, featured: row.featured === null ? null : row.featured === 1 });

/** Every word quoted (FTS5 syntax never comes from the user), the last one a prefix. */
const matchText = (words: readonly string[]) => words.map((w, i) => `"${w}"${i === words.length - 1 ? '*' : ''}`).join(' ');

/** The search condition first, then the filter terms given, with their values in the same order. */
function matching({ words, status, priceBelow }: SearchQuery): { where: string; values: (string | number)[] } {
  const where = ['posts_fts MATCH ?'];
  const values: (string | number)[] = [matchText(words)];
  if (status !== undefined) {
    where.push('p.status = ?');
    values.push(status);
  }
  if (priceBelow !== undefined) {
    where.push('p.price < ?');
    values.push(priceBelow);
  }
  return { where: where.join(' AND '), values };
}

export function openSqliteStore(file: string): PostStore {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -65536');
  db.pragma('temp_store = MEMORY');
  db.pragma('mmap_size = 268435456');
  const byId = db.prepare<[string], StoredRow>(`SELECT ${COLUMNS} FROM posts WHERE id = ?`);
  const firstPage = db.prepare<[string, number], StoredRow>(`SELECT ${COLUMNS} FROM posts WHERE status = ? ORDER BY created DESC, id DESC LIMIT ?`);
  // `created <= ?` first, so the (status, created) index bounds the scan; the OR only breaks ties.
  const nextPage = db.prepare<[string, string, string, string, number], StoredRow>(
    `SELECT ${COLUMNS} FROM posts WHERE status = ? AND created <= ? AND (created < ? OR id < ?) ORDER BY created DESC, id DESC LIMIT ?`,
  );
  const insert = db.prepare<[string, string, string, string | null, string | null, string | null, number | null, string | null, number | null]>(
    `INSERT INTO posts (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  // One prepared statement per SQL text: the benchmark asks a handful of shapes, over and over.
  const prepared = new Map<string, { all(...values: unknown[]): unknown[] }>();
  const all = <T>(sql: string, values: unknown[]): T[] => {
    let statement = prepared.get(sql);
    if (!statement) prepared.set(sql, (statement = db.prepare<unknown[]>(sql)));
    return statement.all(...values) as T[];
  };
  return {
    get: async (id) => {
      const row = byId.get(id);
      return row && post(row);
    },
    list: async ({ status, limit, after }: ListQuery) =>
      (after ? nextPage.all(status, after.created, after.created, after.id, limit + 1) : firstPage.all(status, limit + 1)).map(post),
    // `rank` is bm25 with the weights set on the table (reference-db.ts); lower is better. Ranked
    // first over (rowid, id, score) alone, then the page's rows fetched by rowid, as Galley does.
    search: async (query, limit) => {
      const { where, values } = matching(query);
      const ranked = `SELECT p.rowid AS k, p.id AS id, -posts_fts.rank AS score ${FROM_MATCHES} WHERE ${where} ORDER BY score DESC, p.id LIMIT ?`;
      return all<StoredRow & { score: number }>(`SELECT ${POST_COLUMNS}, h.score FROM (${ranked}) h JOIN posts p ON p.rowid = h.k ORDER BY h.score DESC, h.id`, [...values, limit + 1]).map(post) as RankedRow[];
    },
    facet: async (field, query) => {
      const { where, values } = matching(query);
      const rows = all<{ value: string | number; count: number }>(
        `SELECT p.${field} AS value, COUNT(*) AS count ${FROM_MATCHES} WHERE ${where} AND p.${field} IS NOT NULL GROUP BY p.${field} ORDER BY COUNT(*) DESC, p.${field} LIMIT 100`,
        values,
      );
      return rows.map((r): FacetCount => ({ value: field === 'featured' ? r.value === 1 : String(r.value), count: r.count }));
    },
    insert: async (r) => void insert.run(r.id, r.created, r.updated, r.title, r.body, r.status, r.price, r.category, r.featured === null ? null : r.featured ? 1 : 0),
    close: async () => void db.close(),
  };
}
