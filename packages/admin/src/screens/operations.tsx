// Operations: a live view of the server from GET /api/v1/metrics/summary, polled every two
// seconds; rates come from the last two readings. Job queue depth and realtime connections are gauges.

import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { MetricsSummary } from '@galley/sdk';
import { galley } from '../client.ts';
import { describeError } from '../problems.ts';

const POLL_MS = 2_000;

export function OperationsScreen() {
  const client = useQueryClient();
  // Each reading keeps the one before it, so rates need no state outside the query.
  const reading = useQuery({
    queryKey: ['metrics'],
    queryFn: async ({ signal }): Promise<{ now: MetricsSummary; before: MetricsSummary | null }> => ({
      now: await galley.metrics.summary({ signal }),
      before: client.getQueryData<{ now: MetricsSummary }>(['metrics'])?.now ?? null,
    }),
    refetchInterval: POLL_MS,
    retry: false,
  });
  const now = reading.data?.now;
  const before = reading.data?.before;
  const seconds = now && before ? (Date.parse(now.at) - Date.parse(before.at)) / 1000 : 0;
  const rate = (pick: (s: MetricsSummary) => number) => (now && before && seconds > 0 ? ((pick(now) - pick(before)) / seconds).toFixed(1) : '—');
  return (
    <section aria-labelledby="ops-title">
      <div className="screen-head"><h1 id="ops-title">Operations</h1></div>
      {reading.isError && <p role="alert" className="form-error">{describeError(reading.error)}</p>}
      {now && (
        <>
          <dl className="stats">
            <div><dt>Requests / s</dt><dd>{rate((s) => s.requests.total)}</dd></div>
            <div><dt>Server errors / s</dt><dd>{rate((s) => s.requests.serverErrors)}</dd></div>
            <div><dt>Requests since start</dt><dd>{now.requests.total}</dd></div>
            <div><dt>Server errors since start</dt><dd>{now.requests.serverErrors}</dd></div>
            <div><dt>Jobs waiting</dt><dd>{now.gauges.galley_jobs_pending ?? '—'}</dd></div>
            <div><dt>Realtime connections</dt><dd>{now.gauges.galley_realtime_connections ?? '—'}</dd></div>
          </dl>
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Routes">
            <table>
              <caption className="visually-hidden">Busiest routes since start</caption>
              <thead><tr><th scope="col">Route</th><th scope="col">Requests</th><th scope="col">4xx</th><th scope="col">5xx</th><th scope="col">p50</th><th scope="col">p95</th></tr></thead>
              <tbody>
                {now.routes.map((r) => (
                  <tr key={`${r.method} ${r.route}`}>
                    <th scope="row"><code>{r.method} {r.route}</code></th>
                    <td>{r.requests}</td>
                    <td>{r.clientErrors}</td>
                    <td>{r.serverErrors}</td>
                    <td>{r.p50Ms === null ? '—' : `≤ ${r.p50Ms} ms`}</td>
                    <td>{r.p95Ms === null ? '—' : `≤ ${r.p95Ms} ms`}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
