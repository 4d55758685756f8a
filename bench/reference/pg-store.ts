// The reference's SQL on PostgreSQL: a pg Pool of 10 with named (prepared) statements, the fastest
// plain way to run the benchmark's queries. Served by pg-server.ts; bench/profile uses it in-process.

import pg from 'pg';
import { COLUMNS, type FacetCount, type PostRow, type PostStore, type RankedRow, type SearchQuery } from './common.ts';

const TIMESTAMPTZ_OID = 1184;

/**
 * Every word must match, the last one as a prefix. Folding (lower + unaccent, reference-db.ts) runs
 * in SQL, so the words reach tsquery through plainto_tsquery, which reads no syntax; the last word's
 * lexemes get the prefix mark. The whole words are left out when there are none.
 */
function tsquerySql(words: readonly string[], values: unknown[]): string {
  values.push(words[words.length - 1]);
  const prefix = `(SELECT CASE WHEN numnode(p) = 0 THEN p ELSE (p::text || ':*')::tsquery END FROM plainto_tsquery('simple'::regconfig, fold_text($${values.length})) AS p)`;
  if (words.length === 1) return prefix;
  values.push(words.slice(0, -1).join(' '));
  return `(plainto_tsquery('simple'::regconfig, fold_text($${values.length})) && ${prefix})`;
}

/** The search condition and the filter terms given, with their values; the tsquery's SQL for ranking. */
function matching(query: SearchQuery, values: unknown[]): { where: string; tsquery: string } {
  const tsquery = tsquerySql(query.words, values);
  const where = [`search @@ ${tsquery}`];
  if (query.status !== undefined) {
    values.push(query.status);
    where.push(`status = $${values.length}`);
  }
  if (query.priceBelow !== undefined) {
    values.push(query.priceBelow);
    where.push(`price < $${values.length}`);
  }
  return { where: where.join(' AND '), tsquery };
}

export function openPgStore(url: string): PostStore {
  pg.types.setTypeParser(TIMESTAMPTZ_OID, (v: string) => new Date(v).toISOString());
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const rows = async <T extends pg.QueryResultRow = PostRow>(name: string, text: string, values: unknown[]) => (await pool.query<T>({ name, text, values })).rows;
  // One name per SQL text, so each shape the benchmark asks is prepared once per connection.
  const names = new Map<string, string>();
  const nameOf = (text: string) => names.get(text) ?? (names.set(text, `q${names.size}`), names.get(text)!);
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
    // ts_rank with weight classes A (title) and B (body), as reference-db.ts builds `search`.
    search: async (query, limit) => {
      const values: unknown[] = [];
      const { where, tsquery } = matching(query, values);
      values.push(limit + 1);
      const text = `SELECT ${COLUMNS}, ts_rank(search, ${tsquery})::float8 AS score FROM posts WHERE ${where} ORDER BY score DESC, id LIMIT $${values.length}`;
      return rows<RankedRow>(nameOf(text), text, values);
    },
    facet: async (field, query) => {
      const values: unknown[] = [];
      const { where } = matching(query, values);
      const text = `SELECT ${field} AS value, COUNT(*) AS count FROM posts WHERE ${where} AND ${field} IS NOT NULL GROUP BY ${field} ORDER BY COUNT(*) DESC, ${field} LIMIT 100`;
      const counted = await rows<{ value: string | boolean; count: string }>(nameOf(text), text, values);
      return counted.map((r): FacetCount => ({ value: r.value, count: Number(r.count) }));
    },
    insert: async (r) => {
      await pool.query({
        name: 'insert',
        text: `INSERT INTO posts (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        values: [r.id, r.created, r.updated, r.title, r.body, r.status, r.price, r.category, r.featured],
      });
    },
    close: () => pool.end(),
  };
}
