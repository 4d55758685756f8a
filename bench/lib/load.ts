// The autocannon wrapper: runs one load (fixed duration and connections) against one server,
// rotating through paths and/or generated bodies, and adds it up into req/s, latency and errors.

import autocannon from 'autocannon';
import { onInterrupt } from './cleanup.ts';

export interface LoadSpec {
  baseUrl: string;
  connections: number;
  /** Seconds. */
  duration: number;
  method: 'GET' | 'POST';
  /** Request paths, taken in turn (e.g. 1,000 different record ids). */
  paths: readonly string[];
  /** A new JSON body for every request (POST). */
  body?: () => string;
  /** Sent with every request (e.g. `If-None-Match`). */
  headers?: Readonly<Record<string, string>>;
  /** The status every response must have; by default any 2xx. */
  expectStatus?: number;
}

export interface Measurement {
  /** Responses per second over the measured time (all rounds together). */
  rps: number;
  /** Latency percentiles of the expected responses in milliseconds (µs precision; autocannon's own are whole ms). */
  p50: number;
  p99: number;
  /** Responses received, whatever their status. */
  responses: number;
  /** Responses with another status than expected (not 2xx, or not the scenario's own, e.g. 304). */
  unexpected: number;
  /** Connection errors and timeouts. */
  errors: number;
  /** (unexpected + errors) / (responses + errors). */
  errorRate: number;
  statusCodes: Record<string, number>;
  /** Mean response size (headers included), to see that both servers did the same work. */
  bytesPerResponse: number;
  seconds: number;
  rounds: number;
}

/** Latencies of successful responses, kept exactly (a few MB for a 10 s run) for exact percentiles. */
class Latencies {
  private values = new Float64Array(1 << 16);
  private count = 0;
  add(ms: number): void {
    if (this.count === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.count++] = ms;
  }
  addAll(other: Latencies): void {
    for (let i = 0; i < other.count; i++) this.add(other.values[i]!);
  }
  percentiles(): { p50: number; p99: number } {
    const sorted = this.values.subarray(0, this.count).sort();
    const at = (q: number) => (this.count ? sorted[Math.min(this.count - 1, Math.floor(q * this.count))]! : NaN);
    return { p50: at(0.5), p99: at(0.99) };
  }
}

/** Sums one server's runs of one scenario (one per round). */
export class LoadTotals {
  readonly latencies = new Latencies();
  private responses = 0;
  private unexpected = 0;
  private errors = 0;
  private bytes = 0;
  private seconds = 0;
  private rounds = 0;
  private readonly statusCodes: Record<string, number> = {};

  /** One measured window of a run (see runLoad): its responses were tallied as they came. */
  add(window: MeasuredWindow): void {
    this.rounds++;
    this.responses += window.responses;
    this.unexpected += window.unexpected;
    this.errors += window.errors;
    this.bytes += window.bytes;
    this.seconds += window.seconds;
    for (const [code, count] of Object.entries(window.statusCodes)) this.statusCodes[code] = (this.statusCodes[code] ?? 0) + count;
  }

  /** Adds another run's totals (e.g. one round) to these. */
  absorb(other: LoadTotals): void {
    this.latencies.addAll(other.latencies);
    this.responses += other.responses;
    this.unexpected += other.unexpected;
    this.errors += other.errors;
    this.bytes += other.bytes;
    this.seconds += other.seconds;
    this.rounds += other.rounds;
    for (const [code, count] of Object.entries(other.statusCodes)) this.statusCodes[code] = (this.statusCodes[code] ?? 0) + count;
  }

  measurement(): Measurement {
    const { responses, errors } = this;
    return {
      rps: this.seconds > 0 ? responses / this.seconds : 0,
      ...this.latencies.percentiles(),
      responses,
      unexpected: this.unexpected,
      errors,
      errorRate: responses + errors > 0 ? (this.unexpected + errors) / (responses + errors) : 1,
      statusCodes: { ...this.statusCodes },
      bytesPerResponse: responses > 0 ? this.bytes / responses : 0,
      seconds: this.seconds,
      rounds: this.rounds,
    };
  }
}

/** What runLoad counted between the start and the end of its measured window. */
interface MeasuredWindow {
  responses: number;
  unexpected: number;
  errors: number;
  bytes: number;
  seconds: number;
  statusCodes: Record<string, number>;
}

/**
 * The longest the measured window waits for every connection's first answer; a server that never
 * answers one is measured anyway (its errors count), rather than hanging the benchmark.
 */
const MAX_LEAD_IN_MS = 15_000;

/**
 * One autocannon run, added to `totals` (a fresh one by default, e.g. for a warm-up).
 *
 * The `duration` seconds are measured once every connection has had its first answer, not from
 * the moment autocannon opens them. A server whose event loop is busy (a synchronous 3 ms SQLite
 * search, 50 connections) accepts one new connection per loop iteration — libuv ≥ 1.45 no longer
 * accepts in a loop (libuv/libuv#3696) — so opening 50 connections at once leaves the last ones
 * waiting for their first answer behind dozens of rounds of the others: seconds, the whole p99 of a
 * 10 s run. That is the cost of opening connections to a busy server, not of answering requests
 * on them, and the connections of the previous run (the warm-up) are gone by then.
 */
export async function runLoad(spec: LoadSpec, totals = new LoadTotals()): Promise<LoadTotals> {
  if (spec.paths.length === 0) throw new Error('runLoad: no paths');
  let turn = Math.floor(Math.random() * spec.paths.length);
  const headers: Record<string, string> = { ...(spec.body ? { 'content-type': 'application/json' } : {}), ...spec.headers };
  const expected = (status: number) => (spec.expectStatus === undefined ? status >= 200 && status < 300 : status === spec.expectStatus);
  const window: MeasuredWindow = { responses: 0, unexpected: 0, errors: 0, bytes: 0, seconds: 0, statusCodes: {} };
  const answered = new Set<unknown>();
  let windowStart: number | undefined;
  let windowEnd = Infinity;
  let leadInTimer: NodeJS.Timeout | undefined;
  let endTimer: NodeJS.Timeout | undefined;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.baseUrl,
        connections: spec.connections,
        // Ended by stop() once the measured window is over (autocannon stops on its next 1 s tick).
        duration: spec.duration + MAX_LEAD_IN_MS / 1000 + 5,
        timeout: 10,
        requests: [
          {
            method: spec.method,
            headers,
            setupRequest: (request) => {
              request.path = spec.paths[turn++ % spec.paths.length];
              if (spec.body) request.body = spec.body();
              return request;
            },
          },
        ],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    const openWindow = () => {
      if (windowStart !== undefined) return;
      clearTimeout(leadInTimer);
      windowStart = performance.now();
      endTimer = setTimeout(() => {
        windowEnd = performance.now();
        instance.stop();
      }, spec.duration * 1000);
    };
    leadInTimer = setTimeout(openWindow, MAX_LEAD_IN_MS);
    instance.on('response', (client, status, bytes, ms) => {
      if (windowStart === undefined) {
        answered.add(client);
        if (answered.size >= spec.connections) openWindow();
        return;
      }
      if (performance.now() > windowEnd) return;
      window.responses++;
      window.bytes += bytes;
      window.statusCodes[status] = (window.statusCodes[status] ?? 0) + 1;
      if (expected(status)) totals.latencies.add(ms);
      else window.unexpected++;
    });
    const forget = onInterrupt(() => instance.stop());
    instance.on('done', () => forget());
  });
  clearTimeout(leadInTimer);
  clearTimeout(endTimer);
  // Connection errors and timeouts are counted over the whole run, lead-in included: never fewer.
  window.errors = result.errors;
  window.seconds = windowStart === undefined ? 0 : (Math.min(windowEnd, performance.now()) - windowStart) / 1000;
  totals.add(window);
  return totals;
}
