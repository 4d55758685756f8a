// Webhooks (/webhooks): each webhook with its status, the form that creates one (each server error
// on its control, the typed input kept), the signing secret shown once (after a create or a
// rotation), enable and disable, and rotate and delete behind a confirmation. Each row links to its
// delivery log (webhook-deliveries.tsx).

import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { GalleyError, type Webhook, type WebhookWithSecret } from '@galley/sdk';
import { galley } from '../client.ts';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { describeError, fieldErrorFor } from '../problems.ts';
import { Link } from '../router.tsx';

export const WEBHOOKS_KEY = ['webhooks'] as const;

export function webhookPath(id: string): string {
  return `/webhooks/${encodeURIComponent(id)}`;
}

/** "Active", or "Disabled" with why (by a superuser, or after too many dead deliveries). */
export function WebhookState({ hook }: { hook: Webhook }) {
  if (hook.status === 'active') return <span className="state-ok">Active</span>;
  return (
    <span>
      <span className="state-bad">Disabled</span>
      {hook.disabledReason && <span className="hint block">{hook.disabledReason}</span>}
    </span>
  );
}

/** Events as typed: separated by commas or spaces. */
const parseEvents = (typed: string) => typed.split(/[\s,]+/).filter(Boolean);

/** The server's messages about `events` and about each `events[i]` (naming the event). */
function eventsError(error: unknown, events: readonly string[]): string | undefined {
  if (!(error instanceof GalleyError)) return undefined;
  const messages = error.fieldErrors.flatMap((e) => {
    if (e.field === 'events') return [e.message];
    const index = /^events\[(\d+)\]$/.exec(e.field)?.[1];
    return index === undefined ? [] : [`${events[Number(index)] ?? e.field}: ${e.message}`];
  });
  return messages.length ? messages.join('; ') : undefined;
}

function NewWebhookForm({ onCreated }: { onCreated: (hook: WebhookWithSecret) => void }) {
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const ids = { url: useId(), events: useId(), description: useId() };
  const errors = {
    url: fieldErrorFor(error, 'url'),
    events: eventsError(error, parseEvents(events)),
    description: fieldErrorFor(error, 'description'),
  };
  const fieldless = error !== null && !errors.url && !errors.events && !errors.description;

  // After a refusal, focus goes to the first control the server objected to.
  useEffect(() => {
    if (error) form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [error]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await galley.webhooks.create({ url: url.trim(), events: parseEvents(events), description: description.trim() || null });
      setUrl('');
      setEvents('');
      setDescription('');
      onCreated(created);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const invalid = (message: string | undefined, id: string) => (message ? { 'aria-invalid': true as const, 'aria-describedby': id } : {});
  return (
    <form ref={form} className="stack webhook-form" aria-labelledby="new-webhook-title" noValidate onSubmit={submit}>
      <h2 id="new-webhook-title">New webhook</h2>
      <label>
        URL
        <input type="url" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://hooks.example.com/galley" required {...invalid(errors.url, ids.url)} />
        {errors.url && <span id={ids.url} className="field-error">{errors.url}</span>}
      </label>
      <label>
        Events <span className="hint">comma-separated: <code>posts.create</code>, <code>posts.*</code> (every action), <code>*</code> (everything)</span>
        <input value={events} onChange={(e) => setEvents(e.target.value)} placeholder="posts.create, comments.*" required {...invalid(errors.events, ids.events)} />
        {errors.events && <span id={ids.events} className="field-error">{errors.events}</span>}
      </label>
      <label>
        Description <span className="hint">optional</span>
        <input value={description} onChange={(e) => setDescription(e.target.value)} {...invalid(errors.description, ids.description)} />
        {errors.description && <span id={ids.description} className="field-error">{errors.description}</span>}
      </label>
      {fieldless && <p role="alert" className="form-error">{describeError(error)}</p>}
      <div className="row">
        <button type="submit" className="primary" disabled={busy}>{busy ? 'Creating…' : 'Create webhook'}</button>
      </div>
    </form>
  );
}

/** The secret of a webhook just created or rotated: the only time anyone sees it. */
function SecretPanel({ hook, rotated, onDone }: { hook: WebhookWithSecret; rotated: boolean; onDone: () => void }) {
  const [copied, setCopied] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [hook]);
  async function copy() {
    try {
      await navigator.clipboard.writeText(hook.secret);
      setCopied('Copied.');
    } catch {
      setCopied('Copying was refused here: select the secret and copy it yourself.');
    }
  }
  return (
    <section className="secret-panel stack" aria-labelledby="secret-title">
      <h2 id="secret-title" ref={heading} tabIndex={-1}>{rotated ? 'New signing secret' : 'Webhook created'}: copy its secret now</h2>
      <p>
        Deliveries to <strong>{hook.url}</strong> are signed with this secret (docs/webhooks.md tells your receiver how to check them).
        It is <strong>shown only this once</strong>{rotated ? '; the old secret has stopped signing' : ''}.
      </p>
      <label>
        Signing secret
        <input readOnly value={hook.secret} onFocus={(e) => e.currentTarget.select()} className="secret" />
      </label>
      <div className="row">
        <button type="button" onClick={() => void copy()}>Copy secret</button>
        <button type="button" onClick={onDone}>I have stored it</button>
        <span role="status" className="hint">{copied}</span>
      </div>
    </section>
  );
}

type Pending = { action: 'delete' | 'rotate'; hook: Webhook };

export function WebhooksScreen() {
  const client = useQueryClient();
  const hooks = useQuery({ queryKey: WEBHOOKS_KEY, queryFn: ({ signal }) => galley.webhooks.list({ signal }) });
  const [secret, setSecret] = useState<{ hook: WebhookWithSecret; rotated: boolean } | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const [pendingError, setPendingError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const refresh = () => client.invalidateQueries({ queryKey: WEBHOOKS_KEY });

  async function setEnabled(hook: Webhook, enabled: boolean) {
    setMessage(null);
    setActionError(null);
    try {
      await galley.webhooks.update(hook.id, { enabled });
      setMessage(enabled ? `Enabled ${hook.url}; it receives changes made from now on.` : `Disabled ${hook.url}; nothing is queued for it until it is enabled.`);
      await refresh();
    } catch (err) {
      setActionError(describeError(err));
    }
  }

  async function confirm() {
    if (!pending) return;
    setBusy(true);
    setPendingError(null);
    try {
      if (pending.action === 'delete') {
        await galley.webhooks.delete(pending.hook.id);
        setMessage(`Deleted ${pending.hook.url} and its delivery log.`);
        if (secret?.hook.id === pending.hook.id) setSecret(null);
      } else {
        setSecret({ hook: await galley.webhooks.rotateSecret(pending.hook.id), rotated: true });
        setMessage(null);
      }
      setPending(null);
      await refresh();
    } catch (err) {
      setPendingError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  const open = (action: Pending['action'], hook: Webhook) => {
    setPendingError(null);
    setPending({ action, hook });
  };

  return (
    <section aria-labelledby="webhooks-title">
      <div className="screen-head"><h1 id="webhooks-title">Webhooks</h1></div>
      <p className="lead">Record changes POSTed, signed, to your URLs, retried with backoff when they fail. Each webhook keeps a delivery log.</p>
      {secret && <SecretPanel hook={secret.hook} rotated={secret.rotated} onDone={() => setSecret(null)} />}
      {hooks.isError && <p role="alert" className="form-error">{describeError(hooks.error)}</p>}
      {actionError && <p role="alert" className="form-error">{actionError}</p>}
      <p role="status" className="saved">{message}</p>
      <div className="table-wrap" tabIndex={0} role="region" aria-label="Webhooks">
        <table>
          <thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">Status</th><th scope="col">Failures</th><th scope="col">Actions</th></tr></thead>
          <tbody aria-busy={hooks.isPending}>
            {hooks.data?.length === 0 && (
              <tr><td colSpan={5} className="hint">No webhooks yet: create one below.</td></tr>
            )}
            {hooks.data?.map((hook) => (
              <tr key={hook.id}>
                <th scope="row" title={hook.url}>
                  {hook.url}
                  {hook.description && <span className="hint block">{hook.description}</span>}
                </th>
                <td>{hook.events.map((e) => <code key={e} className="event">{e}</code>)}</td>
                <td><WebhookState hook={hook} /></td>
                <td>{hook.failures}</td>
                <td>
                  <div className="row">
                    <Link to={webhookPath(hook.id)}>Deliveries<span className="visually-hidden"> of {hook.url}</span></Link>
                    <button type="button" onClick={() => void setEnabled(hook, !hook.enabled)}>
                      {hook.enabled ? 'Disable' : 'Enable'}<span className="visually-hidden"> {hook.url}</span>
                    </button>
                    <button type="button" onClick={() => open('rotate', hook)}>Rotate secret<span className="visually-hidden"> of {hook.url}</span></button>
                    <button type="button" className="danger" onClick={() => open('delete', hook)}>Delete<span className="visually-hidden"> {hook.url}</span></button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <NewWebhookForm
        onCreated={(hook) => {
          setSecret({ hook, rotated: false });
          setMessage(null);
          void refresh();
        }}
      />

      <ConfirmDialog
        open={pending !== null}
        title={pending?.action === 'delete' ? 'Delete this webhook?' : 'Rotate the signing secret?'}
        confirmLabel={pending?.action === 'delete' ? 'Delete webhook' : 'Rotate secret'}
        onConfirm={() => void confirm()}
        onClose={() => setPending(null)}
        error={pendingError}
        busy={busy}
      >
        <p>
          {pending?.action === 'delete'
            ? <>Deliveries to <strong>{pending.hook.url}</strong> stop, the ones not sent yet are dropped and its delivery log is deleted. This cannot be undone.</>
            : <>A new secret signs every delivery to <strong>{pending?.hook.url}</strong> from now on, retries included; the old one stops at once. Deploy the new one to the receiver straight away.</>}
        </p>
      </ConfirmDialog>
    </section>
  );
}
