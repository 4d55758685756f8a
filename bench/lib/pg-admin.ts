// PostgreSQL housekeeping for the run: is the server reachable, and a fresh database of its own for
// Galley and for the reference (created at the start, dropped at the end, never shared).

import pg from 'pg';

/** The same server URL with another database name. */
export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Undefined when reachable, otherwise the reason. */
export async function pgUnreachableReason(serverUrl: string): Promise<string | undefined> {
  try {
    await withClient(serverUrl, (c) => c.query('SELECT 1'));
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message || err.name : String(err);
  }
}

const safeName = (name: string) => {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name ${name}`);
  return `"${name}"`;
};

/** Drops any leftover of an interrupted run, then creates the database empty. */
export async function recreateDatabase(serverUrl: string, name: string): Promise<void> {
  await withClient(serverUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${safeName(name)} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${safeName(name)}`);
  });
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await withClient(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${safeName(name)} WITH (FORCE)`));
}

/**
 * Statistics for the planner, the visibility map and the GIN indexes' pending entries merged now,
 * rather than whenever autovacuum gets to each database.
 */
export async function vacuumAnalyze(url: string): Promise<void> {
  await withClient(url, (c) => c.query('VACUUM ANALYZE'));
}
