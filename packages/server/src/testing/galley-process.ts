// A real `galley serve` process for the suites that kill one (SIGKILL) or restart it on the same
// data: started through tsx on an ephemeral port with the test superuser; `url` resolves once it
// listens.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN } from './test-app.ts';

const MAIN = fileURLToPath(new URL('../cli/main.ts', import.meta.url));

export type GalleyProcess = ChildProcess & { url: Promise<string> };

/**
 * Starts `galley serve` with `env` over the test defaults. Without `dir` it gets a fresh data folder,
 * removed when it exits; with `dir` the folder is the caller's (a restart on the same data).
 */
export function serveGalley(env: Record<string, string>, options: { dir?: string } = {}): GalleyProcess {
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'galley-instance-'));
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--port', '0', '--dir', dir], {
    env: { ...process.env, GALLEY_LOG_LEVEL: 'info', GALLEY_ADMIN_EMAIL: ADMIN.email, GALLEY_ADMIN_PASSWORD: ADMIN.password, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/[^"\s]+)/.exec(out);
      if (m) resolve(m[1]!.replace('[::1]', '127.0.0.1'));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`galley exited (${code}) before listening:\n${out}`)));
  });
  if (!options.dir) child.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return Object.assign(child, { url });
}

/** Resolves once the process has exited (at once if it has). */
export const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
