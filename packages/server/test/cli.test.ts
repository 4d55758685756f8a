// The `galley` command as users run it: serve (JSON logs with requestId, no secrets, graceful
// shutdown on SIGTERM with exit code 0) and `admin create` with the password piped in.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const PASSWORD = 'a secret nobody logs';

function galley(args: string[], env: Record<string, string>, input?: string): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { ...process.env, DATABASE_URL: '', GALLEY_LOG_LEVEL: 'info', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  if (input !== undefined) child.stdin!.end(input);
  return Object.assign(child, { output: () => out });
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

// Generous: tsx compiles the server on start, which takes far longer on a loaded machine.
async function waitFor(read: () => string, pattern: RegExp, ms = 60_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const m = read().match(pattern);
    if (m) return m;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${pattern}; output:\n${read()}`);
}

test('serve logs JSON with requestId and no secrets, and shuts down gracefully on SIGTERM', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'galley-cli-'));
  const server = galley(['serve', '--port', '0', '--dir', dir], { GALLEY_ADMIN_EMAIL: 'root@example.com', GALLEY_ADMIN_PASSWORD: PASSWORD });
  try {
    const [, url] = await waitFor(server.output, /listening on (http:\/\/[^"\s]+)/);
    const login = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'root@example.com', password: PASSWORD }) });
    assert.equal(login.status, 200);
    const { token } = (await login.json()) as { token: string };
    const requestId = 'trace-me-123';
    const me = await fetch(`${url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}`, 'x-request-id': requestId } });
    assert.equal(me.status, 200);
    assert.equal(me.headers.get('x-request-id'), requestId);
    // Requests in flight when SIGTERM arrives still complete.
    const inflight = Array.from({ length: 20 }, () => fetch(`${url}/api/v1/health`).then((r) => r.status, () => 'refused'));
    server.kill('SIGTERM');
    const statuses = await Promise.all(inflight);
    assert.ok(statuses.every((s) => s === 200 || s === 503 || s === 'refused'), JSON.stringify(statuses));
    assert.equal(await exited(server), 0);
    const lines = server.output().split('\n').filter((l) => l.startsWith('{'));
    assert.ok(lines.length > 3);
    for (const line of lines) JSON.parse(line);
    assert.ok(lines.some((l) => JSON.parse(l).requestId === requestId), 'request logs carry the requestId');
    assert.ok(!server.output().includes(PASSWORD), 'the password is never logged');
    assert.ok(!server.output().includes(token), 'tokens are never logged');
    assert.ok(fs.statSync(dir).mode % 0o1000 === 0o700, 'the data folder is private');
  } finally {
    server.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('admin create reads the password from standard input; a short one is refused', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'galley-cli-'));
  try {
    const short = galley(['admin', 'create', 'boss@example.com', '--dir', dir], {}, 'short\n');
    assert.equal(await exited(short), 1);
    assert.match(short.output(), /at least 8 characters/);
    const ok = galley(['admin', 'create', 'boss@example.com', '--dir', dir], {}, `${PASSWORD}\n`);
    assert.equal(await exited(ok), 0, ok.output());
    assert.match(ok.output(), /superuser boss@example.com created/);
    const dupe = galley(['admin', 'create', 'boss@example.com', '--dir', dir], {}, `${PASSWORD}\n`);
    assert.equal(await exited(dupe), 1);
    assert.match(dupe.output(), /exists/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('bad configuration fails fast with a clear message', async () => {
  const bad = galley(['serve', '--port', 'abc'], {});
  assert.equal(await exited(bad), 1);
  assert.match(bad.output(), /PORT must be 0–65535/);
  const noDb = galley(['serve', '--port', '0'], { DATABASE_URL: 'postgres://galley:secret-pw@127.0.0.1:1/nowhere' });
  assert.equal(await exited(noDb), 1);
  assert.match(noDb.output(), /the database did not answer/);
  assert.doesNotMatch(noDb.output(), /secret-pw/, 'the URL (and its password) is never printed');
  const unknown = galley(['frobnicate'], {});
  assert.equal(await exited(unknown), 1);
  assert.match(unknown.output(), /unknown command/);
});
