// The reference's SQL on PostgreSQL: a pg Pool of 10 with named (prepared) statements, the fastest
// plain way to run the benchmark's queries. Served by pg-server.ts; bench/profile uses it in-process.

import pg from 'pg';
import { COLUMNS, type PostRow, type PostStore } from './common.ts';

const TIMESTAMPTZ_OID = 1184;

export function openPgStore(url: string): PostStore {
  pg.types.setTypeParser(TIMESTAMPTZ_OID, (v: string) => new Date(v).toISOString());
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const rows = async (name: string, text: string, values: unknown[]) => (await pool.query<PostRow>({ name, text, values })).rows;
  return {
    get: async (id) => (await rows('get', `SELECT ${COLUMNS} FROM posts WHERE id = $1`, [id]))[0],
    list: async ({ status, limit, after }) =>
      after
        ? rows(
            'next_page',
            // `created <= $2` first, so the (status, created) index bounds the scan; the OR only breaks ties.
            `SELECT ${COLUMNS} FROM posts WHERE status = $1 AND created <= $2 AND (created < $2 OR id < $3) ORDER BY created DESC, id DESC LIMIT $4`,
            [status, after.created, after.id, limit + 1],
          )
        : rows('first_page', `SELECT ${COLUMNS} FROM posts WHERE status = $1 ORDER BY created DESC, id DESC LIMIT $2`, [status, limit + 1]),
    insert: async (r) => {
      await pool.query({
        name: 'insert',
        text: `INSERT INTO posts (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        values: [r.id, r.created, r.updated, r.title, r.body, r.status, r.price],
      });
    },
    close: () => pool.end(),
  };
}
