// The login flood (issue 3): GET-by-id p99 on Galley idle, then again while 20 connections post
// valid logins as fast as they can. Password hashing runs on libuv's thread pool (@node-rs/argon2,
// async), so the event loop keeps serving reads: the flooded p99 should stay under 3× the idle one.
// Galley runs with GALLEY_RATE_LIMITS=off here (lib/galley.ts), or the limits would be what is measured.

import { BENCH_ADMIN } from './galley.ts';
import { runLoad, type Measurement } from './load.ts';
import { getRequest } from './scenarios.ts';

export const LOGIN_FLOOD_CONNECTIONS = 20;
/** Reads are measured at a modest concurrency: it is their latency, not the server's peak, that matters. */
const READ_CONNECTIONS = 5;
export const LOGIN_FLOOD_TARGET = 3;

export interface LoginFloodResult {
  idle: Measurement;
  flooded: Measurement;
  logins: Measurement;
  /** flooded p99 ÷ idle p99. */
  ratio: number;
  pass: boolean;
}

export async function measureLoginFlood(url: string, ids: readonly string[], duration: number): Promise<LoginFloodResult> {
  const reads = () => runLoad({ baseUrl: url, connections: READ_CONNECTIONS, duration, ...getRequest(ids) });
  await runLoad({ baseUrl: url, connections: READ_CONNECTIONS, duration: 2, ...getRequest(ids) });
  const idle = (await reads()).measurement();
  const body = JSON.stringify(BENCH_ADMIN);
  const [flooded, logins] = await Promise.all([
    reads(),
    runLoad({ baseUrl: url, connections: LOGIN_FLOOD_CONNECTIONS, duration, method: 'POST', paths: ['/api/v1/auth/login'], body: () => body }),
  ]);
  const f = flooded.measurement();
  const ratio = f.p99 / idle.p99;
  return { idle, flooded: f, logins: logins.measurement(), ratio, pass: ratio < LOGIN_FLOOD_TARGET };
}

/** One line for the console and latest.md. */
export function loginFloodLine(r: LoginFloodResult): string {
  const ms = (n: number) => `${n.toFixed(2)} ms`;
  return (
    `login flood (${LOGIN_FLOOD_CONNECTIONS} connections of valid POST /login, ${r.logins.rps.toFixed(0)} logins/s, ${(r.logins.errorRate * 100).toFixed(1)}% errors; rate limits off): ` +
    `GET by id p99 ${ms(r.idle.p99)} idle → ${ms(r.flooded.p99)} flooded = ${r.ratio.toFixed(2)}× (target < ${LOGIN_FLOOD_TARGET}×, ${r.pass ? 'pass' : 'FAIL'})`
  );
}
