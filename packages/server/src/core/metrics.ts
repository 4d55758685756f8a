// The server's Prometheus metrics (prom-client), one registry per app so that several apps in one
// process (tests, embedding) never share counters. Modules add their own through gauge() and counter().

import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Latency buckets in seconds: fine below 10 ms, where a cached or indexed read lands. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'galley_http_requests_total', help: 'HTTP requests answered, by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const, registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'galley_http_request_duration_seconds', help: 'Time to answer an HTTP request, by method and route.',
    labelNames: ['method', 'route'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry],
  });
  readonly dbDuration = new Histogram({
    name: 'galley_db_query_duration_seconds', help: 'Time a database statement took, by kind (all, get, run, exec, transaction).',
    labelNames: ['kind'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry],
  });
  readonly slowQueries = new Counter({
    name: 'galley_db_slow_queries_total', help: 'Statements slower than GALLEY_SLOW_QUERY_MS.', registers: [this.registry],
  });
  readonly cacheLookups = new Counter({
    name: 'galley_read_cache_lookups_total', help: 'Public read cache lookups, by result (hit or miss).',
    labelNames: ['result'] as const, registers: [this.registry],
  });

  /**
   * Registers a gauge read at scrape time (realtime connections, job queue depth …): `read` returns
   * the current value, or values per label set.
   */
  gauge(name: string, help: string, read: () => number | Promise<number>): void {
    new Gauge({
      name, help, registers: [this.registry],
      async collect() {
        this.set(await read());
      },
    });
  }

  /** Registers a counter for another module (job failures …) and returns it. */
  counter(name: string, help: string): Counter {
    return new Counter({ name, help, registers: [this.registry] });
  }

  /** The Prometheus text exposition. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
