// Starts Galley as a child process (SQLite in a temporary data folder, or a PostgreSQL database of
// its own), signs in the superuser it creates at start, and defines the benchmark's `posts` collection.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CATEGORIES } from './data.ts';
import { requestJson } from './http.ts';
import { freePort, startServer, type ServerProcess } from './processes.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const GALLEY_CLI = path.join(REPO_ROOT, 'packages/server/src/cli/main.ts');
export const BENCH_ADMIN = { email: 'bench@example.com', password: 'bench-Pa55word-long' };
const ADMIN = BENCH_ADMIN;

export interface Galley {
  server: ServerProcess;
  token: string;
}

export const POSTS_COLLECTION = {
  name: 'posts',
  fields: [
    { name: 'title', type: 'text', required: true, max: 200 },
    { name: 'body', type: 'text' },
    { name: 'status', type: 'select', values: ['draft', 'published', 'archived'] },
    { name: 'price', type: 'number', min: 0 },
    { name: 'category', type: 'select', values: [...CATEGORIES] },
    { name: 'featured', type: 'boolean' },
  ],
  indexes: [{ fields: ['status', 'created'] }],
  // Title words rank above body words (weights 1.0 and 0.4).
  search: ['title', 'body'],
  rules: { list: '', view: '', create: '', update: null, delete: null },
};

/** `env` adds settings of a scenario (REDIS_URL for several instances, …) over the defaults below. */
export async function startGalley(options: { dataDir: string; databaseUrl?: string; env?: Record<string, string | undefined> }): Promise<Galley> {
  const port = await freePort();
  const server = await startServer({
    name: 'galley',
    args: [GALLEY_CLI, 'serve', '--port', String(port), '--host', '127.0.0.1', '--dir', options.dataDir],
    env: {
      GALLEY_ADMIN_EMAIL: ADMIN.email,
      GALLEY_ADMIN_PASSWORD: ADMIN.password,
      GALLEY_LOG_LEVEL: 'warn',
      DATABASE_URL: options.databaseUrl,
      // The reference queries the database for every request: so must Galley, or the ratios
      // would measure its public read cache (a scenario of its own) instead of its request path.
      GALLEY_READ_CACHE_ENTRIES: '0',
      // The login flood signs in as fast as it can from one address: limits would measure themselves.
      GALLEY_RATE_LIMITS: 'off',
      // Never inherit the caller's deployment settings.
      GALLEY_DATA_DIR: undefined,
      REDIS_URL: undefined,
      STORAGE_URL: undefined,
      PORT: undefined,
      HOST: undefined,
      ...options.env,
    },
    port,
    healthPath: '/api/v1/health',
    startTimeoutMs: 90_000,
  });
  const { token } = await requestJson<{ token: string }>(`${server.url}/api/v1/auth/login`, { method: 'POST', body: ADMIN });
  // A second instance on the same database finds the collection there already.
  const existing = await fetch(`${server.url}/api/v1/collections/${POSTS_COLLECTION.name}`, { headers: { authorization: `Bearer ${token}` } });
  await existing.arrayBuffer();
  if (existing.status === 404) await requestJson(`${server.url}/api/v1/collections`, { method: 'POST', body: POSTS_COLLECTION, token, expect: 201 });
  return { server, token };
}
