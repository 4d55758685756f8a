// A webhook's delivery log (/webhooks/:id): newest first, "Older" follows the cursor (kept in the
// URL), and any delivery can be sent again. The newest page refreshes itself every few seconds,
// so pending deliveries turn into succeeded or failed ones as they are sent.

import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { GalleyError, type WebhookDelivery } from '@galley/sdk';
import { galley } from '../client.ts';
import { describeError } from '../problems.ts';
import { Link, navigate, useLocation, withQuery } from '../router.tsx';
import { webhookPath, WebhookState } from './webhooks.tsx';

const PAGE_SIZE = 20;
const REFRESH_MS = 3000;

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '—');

function Outcome({ delivery }: { delivery: WebhookDelivery }) {
  const answer = delivery.responseStatus === null ? null : `HTTP ${delivery.responseStatus}`;
  const detail = [answer, delivery.error].filter(Boolean).join(' · ');
  return <td title={detail || undefined}>{detail || '—'}</td>;
}

export function WebhookDeliveriesScreen({ id }: { id: string }) {
  const client = useQueryClient();
  const { query } = useLocation();
  const cursor = query.get('cursor') ?? undefined;
  const here = webhookPath(id);
  const hook = useQuery({ queryKey: ['webhook', id], queryFn: ({ signal }) => galley.webhooks.get(id, { signal }) });
  const page = useQuery({
    queryKey: ['webhook-deliveries', id, cursor],
    queryFn: ({ signal }) => galley.webhooks.deliveries(id, { cursor, limit: PAGE_SIZE }, { signal }),
    refetchInterval: cursor ? false : REFRESH_MS,
    enabled: hook.isSuccess,
  });
  const [message, setMessage] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);

  async function redeliver(delivery: WebhookDelivery) {
    setMessage(null);
    setActionError(null);
    try {
      const queued = await galley.webhooks.redeliver(id, delivery.id);
      setMessage(`Queued delivery ${queued.id} with the same body as ${delivery.id}${cursor ? '; it is on the newest page' : ''}.`);
      await client.invalidateQueries({ queryKey: ['webhook-deliveries', id] });
    } catch (err) {
      setActionError(describeError(err));
    }
  }

  if (hook.isError) {
    const gone = hook.error instanceof GalleyError && hook.error.status === 404;
    return (
      <section aria-labelledby="deliveries-title">
        <h1 id="deliveries-title">Deliveries</h1>
        <p role="alert" className="form-error">{gone ? 'This webhook does not exist: it may have been deleted.' : describeError(hook.error)}</p>
        <Link to="/webhooks">Back to the webhooks</Link>
      </section>
    );
  }

  return (
    <section aria-labelledby="deliveries-title">
      <nav aria-label="Breadcrumb" className="hint"><Link to="/webhooks">Webhooks</Link> / deliveries</nav>
      <div className="screen-head">
        <h1 id="deliveries-title">Deliveries{hook.data && <span className="hint block webhook-url">{hook.data.url}</span>}</h1>
        {hook.data && <WebhookState hook={hook.data} />}
      </div>
      {hook.data && <p className="hint">Events: {hook.data.events.map((e) => <code key={e} className="event">{e}</code>)}</p>}
      {page.isError && <p role="alert" className="form-error">{describeError(page.error)}</p>}
      {actionError && <p role="alert" className="form-error">{actionError}</p>}
      <p role="status" className="saved">{message}</p>
      <div className="table-wrap" tabIndex={0} role="region" aria-label="Delivery log">
        <table>
          <thead>
            <tr>
              <th scope="col">Created</th><th scope="col">Event</th><th scope="col">Change</th><th scope="col">Status</th>
              <th scope="col">Attempts</th><th scope="col">Answer</th><th scope="col">Time</th><th scope="col">Next attempt</th><th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody aria-busy={page.isPending}>
            {page.data?.items.length === 0 && (
              <tr><td colSpan={9} className="hint">{cursor ? 'No older deliveries.' : 'Nothing delivered yet: deliveries appear here as matching records change.'}</td></tr>
            )}
            {page.data?.items.map((d) => (
              <tr key={d.id}>
                <td>{when(d.created)}</td>
                <th scope="row">{d.event}</th>
                <td>#{d.seq}</td>
                <td><span className={d.status === 'succeeded' ? 'state-ok' : d.status === 'pending' ? undefined : 'state-bad'}>{d.status}</span></td>
                <td>{d.attempts}</td>
                <Outcome delivery={d} />
                <td>{d.durationMs === null ? '—' : `${d.durationMs} ms`}</td>
                <td>{when(d.nextAttemptAt)}</td>
                <td>
                  <button type="button" onClick={() => void redeliver(d)}>Redeliver<span className="visually-hidden"> {d.event} #{d.seq} ({d.id})</span></button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="pager">
        {cursor && <button type="button" onClick={() => navigate(here)}>Newest</button>}
        <button type="button" disabled={!page.data?.nextCursor} onClick={() => navigate(withQuery(here, { cursor: page.data!.nextCursor! }))}>Older</button>
      </div>
    </section>
  );
}
