// Which databases a suite runs against: SQLite always; PostgreSQL when it answers (required under
// CI=true, where a missing PostgreSQL is a failure, never a skip). Each test app gets a fresh database.

import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import pg from 'pg';

export const POSTGRES_ADMIN_URL = process.env.GALLEY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let reachable: Promise<boolean> | undefined;

export function postgresReachable(): Promise<boolean> {
  return (reachable ??= (async () => {
    const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  })());
}

export type TestDialect = 'sqlite' | 'postgres';

/**
 * The dialects to test. When PostgreSQL is missing the returned `skipReason` says so (tests print it);
 * under CI=true a missing PostgreSQL throws instead.
 */
export async function testDialects(): Promise<{ dialects: TestDialect[]; skipReason?: string }> {
  if (await postgresReachable()) return { dialects: ['sqlite', 'postgres'] };
  const reason = `PostgreSQL not reachable at ${POSTGRES_ADMIN_URL.replace(/\/\/[^@]*@/, '//')}: PostgreSQL suites skipped`;
  if (process.env.CI === 'true') throw new Error(`${reason} — but CI=true requires them`);
  return { dialects: ['sqlite'], skipReason: reason };
}

/** Creates an empty PostgreSQL database for one test app; the returned function drops it. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `galley_t_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Declares one `describe` per available dialect (and a visible skipped test naming what is missing). */
export async function describeEachDialect(title: string, body: (dialect: TestDialect) => void): Promise<void> {
  const { dialects, skipReason } = await testDialects();
  if (skipReason) test(`${title}: ${skipReason}`, { skip: skipReason }, () => {});
  for (const dialect of dialects) describe(`${title} (${dialect})`, () => body(dialect));
}
