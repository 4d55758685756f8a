// createTestApp(): a real Galley (real SQLite file or a fresh PostgreSQL database) on an ephemeral
// port, with a superuser, plus small request helpers for the suites.

import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { createApp, type App } from '../app.ts';
import { loadConfig } from '../config/config.ts';
import { createPostgresDatabase, type TestDialect } from './databases.ts';

export const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };

export interface TestApp {
  app: App;
  dialect: TestDialect;
  /** Base URL, e.g. http://127.0.0.1:40123 */
  url: string;
  adminToken: string;
  request(method: string, path: string, options?: { body?: unknown; raw?: string | Buffer; token?: string | null; headers?: Record<string, string> }): Promise<TestResponse>;
  /** Stops the server and starts a new one on the same database, data folder and port (`app` is replaced). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  text: string;
  // Tests read arbitrary shapes; asserting is their job.
  body: any;
}

/**
 * A port free at the moment, for a test that must know its server's URL before starting it
 * (an OAuth provider registers the callback URL up front); pass it as env PORT.
 */
export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export interface TestAppOptions {
  /** false: start with no superuser at all (the first-run flow); `adminToken` is then ''. Default true. */
  superuser?: boolean;
  /** Instead of the silent test logger (to read what the server logs). */
  logger?: Logger;
}

/** `env` overrides the test defaults; `PORT` in it replaces the ephemeral port. */
export async function createTestApp(dialect: TestDialect = 'sqlite', env: Record<string, string> = {}, options: TestAppOptions = {}): Promise<TestApp> {
  const superuser = options.superuser ?? true;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'galley-test-'));
  const pgdb = dialect === 'postgres' ? await createPostgresDatabase() : undefined;
  // Every request of a suite comes from 127.0.0.1: rate limits are off unless a suite turns them on.
  const fullEnv = { ...(superuser ? { GALLEY_ADMIN_EMAIL: ADMIN.email, GALLEY_ADMIN_PASSWORD: ADMIN.password } : {}), GALLEY_RATE_LIMITS: 'off', ...(pgdb ? { DATABASE_URL: pgdb.url } : {}), ...env };
  const start = (port: string) =>
    createApp(loadConfig(fullEnv, ['--port', port, '--dir', dir]), { logger: options.logger ?? pino({ level: process.env.GALLEY_TEST_LOG_LEVEL ?? 'silent' }) });
  const app = await start(env.PORT ?? '0');
  const address = await app.listen();
  const url = address.replace('[::1]', '127.0.0.1');

  const request: TestApp['request'] = async (method, p, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === undefined ? test.adminToken : options.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | Buffer | undefined = options.raw;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(url + p, { method, headers, body });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, text, body: parsed };
  };

  const test: TestApp = {
    app,
    dialect,
    url,
    adminToken: '',
    request,
    async restart() {
      await test.app.close();
      // fetch's pool drops a kept-alive socket to the old server only once it has read that
      // server's close: give it a moment, or the next request may go out on a dead socket.
      await new Promise((resolve) => setTimeout(resolve, 50));
      test.app = await start(new URL(url).port);
      await test.app.listen();
    },
    async close() {
      await test.app.close();
      await pgdb?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  if (!superuser) return test;
  const login = await request('POST', '/api/v1/auth/login', { body: ADMIN, token: null });
  if (login.status !== 200) throw new Error(`test admin login failed: ${login.status} ${login.text}`);
  test.adminToken = login.body.token;
  return test;
}

/** Creates a user and signs them in: their id and session token. */
export async function createSignedInUser(t: TestApp, email: string, password = 'a long enough password'): Promise<{ id: string; token: string }> {
  const user = await t.app.services.auth.createUser({ email, password });
  const login = await t.request('POST', '/api/v1/auth/login', { body: { email, password }, token: null });
  if (login.status !== 200) throw new Error(`login of ${email} failed: ${login.status} ${login.text}`);
  return { id: user.id, token: login.body.token };
}

/**
 * Waits until the webhook outbox (a durable change-log consumer) has read every change: until then,
 * age-based pruning keeps what it has not read, so a suite that prunes "everything" waits here first.
 */
export async function webhookOutboxCaughtUp(t: TestApp): Promise<void> {
  const { webhookOutbox: outbox, changes } = t.app.services;
  for (let i = 0; i < 500 && (await outbox.position()) < (await changes.head()); i++) {
    outbox.wake();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const [position, head] = [await outbox.position(), await changes.head()];
  if (position < head) throw new Error(`the webhook outbox stayed at ${position}, behind the head ${head}`);
}
