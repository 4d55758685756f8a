// A JSON digest of the Prometheus metrics for the dashboard's live operations view: totals since
// start (the dashboard turns two readings into rates), per-route counts, errors and latency
// quantiles estimated from the histogram buckets, and the gauges (realtime connections, job
// queue depth). Read from the same registry /metrics exposes, so the two never disagree.

import type { MetricsSummary, RouteSummary } from '@galley/protocol';
import type { Metrics } from './metrics.ts';

const MAX_ROUTES = 50;

type Labels = Record<string, string | number>;
interface MetricValue { value: number; labels: Labels; metricName?: string }

function quantile(buckets: Array<{ le: number; count: number }>, total: number, q: number): number | null {
  if (total === 0) return null;
  const rank = q * total;
  for (const b of buckets) if (b.count >= rank) return Number.isFinite(b.le) ? b.le * 1000 : null;
  return null;
}

export async function summarizeMetrics(metrics: Metrics): Promise<MetricsSummary> {
  const all = await metrics.registry.getMetricsAsJSON();
  const routes = new Map<string, RouteSummary & { buckets: Array<{ le: number; count: number }>; observed: number }>();
  const entry = (method: string, route: string) => {
    const key = `${method} ${route}`;
    let r = routes.get(key);
    if (!r) routes.set(key, (r = { method, route, requests: 0, serverErrors: 0, clientErrors: 0, p50Ms: null, p95Ms: null, buckets: [], observed: 0 }));
    return r;
  };
  const totals = { total: 0, serverErrors: 0, clientErrors: 0 };
  const gauges: Record<string, number> = {};
  const counters: Record<string, number> = {};
  for (const metric of all) {
    const values = metric.values as MetricValue[];
    if (metric.name === 'galley_http_requests_total') {
      for (const { value, labels } of values) {
        const r = entry(String(labels.method), String(labels.route));
        const status = Number(labels.status);
        r.requests += value;
        totals.total += value;
        if (status >= 500) {
          r.serverErrors += value;
          totals.serverErrors += value;
        } else if (status >= 400) {
          r.clientErrors += value;
          totals.clientErrors += value;
        }
      }
    } else if (metric.name === 'galley_http_request_duration_seconds') {
      for (const { value, labels, metricName } of values) {
        const r = entry(String(labels.method), String(labels.route));
        if (metricName?.endsWith('_bucket')) r.buckets.push({ le: labels.le === '+Inf' ? Infinity : Number(labels.le), count: value });
        else if (metricName?.endsWith('_count')) r.observed = value;
      }
    } else if (String(metric.type) === 'gauge') {
      gauges[metric.name] = values.reduce((sum, v) => sum + v.value, 0);
    } else if (String(metric.type) === 'counter') {
      counters[metric.name] = values.reduce((sum, v) => sum + v.value, 0);
    }
  }
  const list = [...routes.values()]
    .map(({ buckets, observed, ...r }) => {
      buckets.sort((a, b) => a.le - b.le);
      return { ...r, p50Ms: quantile(buckets, observed, 0.5), p95Ms: quantile(buckets, observed, 0.95) };
    })
    .filter((r) => r.requests > 0)
    .sort((a, b) => b.requests - a.requests || a.route.localeCompare(b.route))
    .slice(0, MAX_ROUTES);
  return { at: new Date().toISOString(), uptimeSeconds: Math.round(process.uptime()), requests: totals, routes: list, gauges, counters };
}
