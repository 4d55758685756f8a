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

  add(result: autocannon.Result, expectStatus?: number): void {
    this.rounds++;
    this.responses += result.requests.total;
    this.unexpected += expectStatus === undefined ? result.non2xx : result.requests.total - Number(result.statusCodeStats?.[String(expectStatus)]?.count ?? 0);
    this.errors += result.errors;
    this.bytes += result.throughput.total;
    this.seconds += result.duration;
    for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) this.statusCodes[code] = (this.statusCodes[code] ?? 0) + Number(count);
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

/** One autocannon run, added to `totals` (a fresh one by default, e.g. for a warm-up). */
export async function runLoad(spec: LoadSpec, totals = new LoadTotals()): Promise<LoadTotals> {
  if (spec.paths.length === 0) throw new Error('runLoad: no paths');
  let turn = Math.floor(Math.random() * spec.paths.length);
  const headers: Record<string, string> = { ...(spec.body ? { 'content-type': 'application/json' } : {}), ...spec.headers };
  const expected = (status: number) => (spec.expectStatus === undefined ? status >= 200 && status < 300 : status === spec.expectStatus);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.baseUrl,
        connections: spec.connections,
        duration: spec.duration,
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
    instance.on('response', (_client, status, _bytes, ms) => {
      if (expected(status)) totals.latencies.add(ms);
    });
    const forget = onInterrupt(() => instance.stop());
    instance.on('done', () => forget());
  });
  totals.add(result, spec.expectStatus);
  return totals;
}
