// Child servers (Galley and the reference servers): spawn on 127.0.0.1 with a free port, wait until
// healthy (bounded), keep the last lines of their output, and always kill them — even on a crash.

import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { isInterrupted, onCleanup } from './cleanup.ts';

export const HOST = '127.0.0.1';
const live = new Set<ChildProcess>();
const STOP_GRACE_MS = 10_000;

// Last resort: whatever happens to the main process, its children do not outlive it.
process.on('exit', () => killAllNow());

export function killAllNow(): void {
  for (const child of live) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

export interface ServerProcess {
  name: string;
  url: string;
  pid: number;
  /** The last lines the process wrote (stdout and stderr), for error messages. */
  logTail(): string;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  /** Arguments after `node --import tsx --import watchdog.ts` (the script and its arguments). */
  args: string[];
  env: Record<string, string | undefined>;
  port: number;
  healthPath: string;
  startTimeoutMs?: number;
}

const WATCHDOG = new URL('./watchdog.ts', import.meta.url).pathname;

export async function startServer(options: SpawnOptions): Promise<ServerProcess> {
  if (isInterrupted()) throw new Error(`interrupted: not starting ${options.name}`);
  // The IPC channel is only a lifeline: the watchdog ends the child when the benchmark is gone.
  // BENCH_CPU_PROF_DIR: each server writes a V8 CPU profile there when it stops (NODE_OPTIONS refuses --cpu-prof).
  const profile = process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', '--import', WATCHDOG, ...options.args], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  live.add(child);
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(line);
    if (lines.length > 60) lines.splice(0, lines.length - 60);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => live.delete(child));

  const url = `http://${HOST}:${options.port}`;
  const server: ServerProcess = {
    name: options.name,
    url,
    pid: child.pid ?? -1,
    logTail: () => lines.slice(-30).join('\n'),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
  const stopNow = onCleanup(`stop ${options.name}`, server.stop);
  server.stop = stopNow;
  await waitHealthy(server, child, options);
  return server;
}

async function waitHealthy(server: ServerProcess, child: ChildProcess, options: SpawnOptions): Promise<void> {
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${options.name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${server.logTail()}`);
    }
    try {
      const res = await fetch(server.url + options.healthPath, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await server.stop();
  throw new Error(`${options.name} was not healthy after ${(options.startTimeoutMs ?? 60_000) / 1000} s:\n${server.logTail()}`);
}
