// Builds the reference database from Galley's own rows (same ids, timestamps and values), on SQLite
// or PostgreSQL, with the schema and the (status, created, id) index the reference servers expect.

// The same better-sqlite3 build Galley loads for this Node version (12 on Node 20, 13 on Node ≥ 22).
import { SqliteDriver as Database } from '../../packages/server/src/db/sqlite.ts';
import pg from 'pg';
import type { PostRow } from '../reference/common.ts';

const COLUMNS = ['id', 'created', 'updated', 'title', 'body', 'status', 'price'] as const;
const values = (r: PostRow) => [r.id, r.created, r.updated, r.title, r.body, r.status, r.price];

export function buildSqliteReference(file: string, rows: readonly PostRow[]): void {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE posts (id TEXT PRIMARY KEY, created TEXT NOT NULL, updated TEXT NOT NULL,
      title TEXT, body TEXT, status TEXT, price REAL)`);
    db.exec('CREATE INDEX posts_status_created ON posts (status, created, id)');
    const insert = db.prepare(`INSERT INTO posts (${COLUMNS.join(', ')}) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    db.transaction(() => {
      for (const row of rows) insert.run(...values(row));
    })();
  } finally {
    db.close();
  }
}

export async function buildPgReference(url: string, rows: readonly PostRow[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE TABLE posts (id TEXT PRIMARY KEY, created TIMESTAMPTZ NOT NULL, updated TIMESTAMPTZ NOT NULL,
      title TEXT, body TEXT, status TEXT, price DOUBLE PRECISION)`);
    await client.query('CREATE INDEX posts_status_created ON posts (status, created, id)');
    await client.query('BEGIN');
    const chunk = 1000;
    for (let start = 0; start < rows.length; start += chunk) {
      const part = rows.slice(start, start + chunk);
      const placeholders = part.map((_, i) => `(${COLUMNS.map((__, j) => `$${i * COLUMNS.length + j + 1}`).join(', ')})`);
      await client.query(`INSERT INTO posts (${COLUMNS.join(', ')}) VALUES ${placeholders.join(', ')}`, part.flatMap(values));
    }
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}
