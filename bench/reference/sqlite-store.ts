// The reference's SQL on SQLite: better-sqlite3 (WAL, prepared statements, Galley's pragmas), the
// fastest plain way to run the benchmark's queries. Served by sqlite-server.ts; bench/profile uses it in-process.

// The same better-sqlite3 build Galley loads for this Node version (12 on Node 20, 13 on Node ≥ 22).
import { SqliteDriver as Database } from '../../packages/server/src/db/sqlite.ts';
import { COLUMNS, type ListQuery, type PostRow, type PostStore } from './common.ts';

export function openSqliteStore(file: string): PostStore {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -65536');
  db.pragma('temp_store = MEMORY');
  db.pragma('mmap_size = 268435456');
  const byId = db.prepare<[string], PostRow>(`SELECT ${COLUMNS} FROM posts WHERE id = ?`);
  const firstPage = db.prepare<[string, number], PostRow>(`SELECT ${COLUMNS} FROM posts WHERE status = ? ORDER BY created DESC, id DESC LIMIT ?`);
  // `created <= ?` first, so the (status, created) index bounds the scan; the OR only breaks ties.
  const nextPage = db.prepare<[string, string, string, string, number], PostRow>(
    `SELECT ${COLUMNS} FROM posts WHERE status = ? AND created <= ? AND (created < ? OR id < ?) ORDER BY created DESC, id DESC LIMIT ?`,
  );
  const insert = db.prepare<[string, string, string, string | null, string | null, string | null, number | null]>(
    `INSERT INTO posts (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  return {
    get: async (id) => byId.get(id),
    list: async ({ status, limit, after }: ListQuery) =>
      after ? nextPage.all(status, after.created, after.created, after.id, limit + 1) : firstPage.all(status, limit + 1),
    insert: async (r) => void insert.run(r.id, r.created, r.updated, r.title, r.body, r.status, r.price),
    close: async () => void db.close(),
  };
}
