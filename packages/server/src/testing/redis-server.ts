// A redis-server of a suite's own on a free 127.0.0.1 port, for outage tests: it can be stopped,
// paused (SIGSTOP: connected but silent) and started again on the same port. The shared Redis on
// 6379 is never touched.

import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './test-app.ts';

export interface TestRedisServer {
  url: string;
  /** Kills the server: connections drop, new ones are refused. */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty: no persistence); nothing when it runs. */
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: the socket stays open but nothing answers. */
  pause(): void;
  resume(): void;
}

/** undefined when no redis-server binary is installed (the caller skips, or fails under CI=true). */
export async function startRedisServer(): Promise<TestRedisServer | undefined> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      if (running()) return resolve();
      const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      proc.once('error', reject);
      proc.stdout!.on('data', (chunk) => {
        out += chunk;
        if (out.includes('Ready to accept connections')) resolve();
      });
      proc.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out.slice(-500)}`)));
      child = proc;
    });
  // A suite that dies mid-test must not leave its server behind.
  process.once('exit', () => child?.kill('SIGKILL'));
  try {
    await start();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    start,
    async stop() {
      const proc = child;
      if (!proc || !running()) return;
      proc.kill('SIGCONT');
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGKILL');
      });
    },
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
  };
}
