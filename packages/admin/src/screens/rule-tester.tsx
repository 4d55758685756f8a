// The rule tester: pick a user (searched by email) or anonymous, and a record, and see whether each
// rule of the collection allows it and why — the server's evaluation trace, operands resolved.

import { useState, type FormEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import type { RuleTestResult, RuleTrace } from '@galley/sdk';
import { galley } from '../client.ts';
import { describeError, fieldErrorFor } from '../problems.ts';
import { Link } from '../router.tsx';

const show = (value: unknown) => (value === '' ? "''" : JSON.stringify(value));

function TraceTree({ trace }: { trace: RuleTrace }) {
  const verdict = trace.value ? 'true' : 'false';
  return (
    <li>
      <code>{trace.text}</code> → <strong>{verdict}</strong>
      {trace.kind === 'compare' && (
        <ul>
          <li><code>{trace.left.text}</code> is <code>{show(trace.left.value)}</code></li>
          <li><code>{trace.right.text}</code> is <code>{show(trace.right.value)}</code></li>
        </ul>
      )}
      {(trace.kind === 'and' || trace.kind === 'or') && (
        <ul>
          <TraceTree trace={trace.left} />
          <TraceTree trace={trace.right} />
        </ul>
      )}
      {trace.kind === 'not' && <ul><TraceTree trace={trace.expr} /></ul>}
    </li>
  );
}

const REASONS: Record<string, string> = {
  superuser: 'Superusers pass every rule.',
  superusers_only: 'The rule is empty (null): superusers only.',
  anyone: 'The rule is "": anyone.',
  expression: 'The expression decides.',
  error: 'The expression cannot be evaluated for this request.',
};

export function RuleTesterScreen({ name }: { name: string }) {
  const [search, setSearch] = useState('');
  const [userId, setUserId] = useState('');
  const [recordId, setRecordId] = useState('');
  const [result, setResult] = useState<RuleTestResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const users = useQuery({ queryKey: ['users', search], queryFn: ({ signal }) => galley.users.list({ search, limit: 20 }, { signal }) });
  const records = useQuery({ queryKey: ['tester-records', name], queryFn: ({ signal }) => galley.collection(name).list({ limit: 50, sort: '-created', signal }) });

  async function run(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setResult(await galley.collections.testRules(name, { auth: userId ? { userId } : null, ...(recordId ? { recordId } : {}) }));
    } catch (err) {
      setError(err);
      setResult(null);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="tester-title">
      <div className="screen-head">
        <h1 id="tester-title">Rule tester: {name}</h1>
        <Link to={`/collections/${encodeURIComponent(name)}/schema`}>Schema</Link>
      </div>
      <form onSubmit={run} aria-label="Test the rules" className="toolbar">
        <label className="grow">
          Find a user by email
          <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
        </label>
        <label className="grow">
          Caller
          <select value={userId} onChange={(e) => setUserId(e.target.value)} aria-invalid={fieldErrorFor(error, 'auth.userId') ? true : undefined}>
            <option value="">Anonymous</option>
            {users.data?.items.map((u) => <option key={u.id} value={u.id}>{u.email}{u.roles.length ? ` (${u.roles.join(', ')})` : ''}</option>)}
          </select>
        </label>
        <label className="grow">
          Record
          <select value={recordId} onChange={(e) => setRecordId(e.target.value)}>
            <option value="">No record (an empty one)</option>
            {records.data?.items.map((r) => <option key={(r as { id: string }).id} value={(r as { id: string }).id}>{(r as { id: string }).id}</option>)}
          </select>
        </label>
        <button type="submit" className="primary" disabled={busy}>{busy ? 'Testing…' : 'Test rules'}</button>
      </form>
      {error != null && <p role="alert" className="form-error">{describeError(error)}</p>}
      {result && (
        <div aria-live="polite">
          {result.results.map((r) => (
            <article key={r.rule} className="verdict" aria-label={`${r.rule} rule`}>
              <h2>
                {r.rule}: <span className={r.allowed ? 'allowed' : 'denied'}>{r.allowed ? 'allowed' : 'denied'}</span>
              </h2>
              <p className="hint">{REASONS[r.reason]} {r.expression ? <code>{r.expression}</code> : null}</p>
              {r.error && <p className="field-error">{r.error.message}</p>}
              {r.trace && <ul className="trace"><TraceTree trace={r.trace} /></ul>}
            </article>
          ))}
        </div>
      )}
    </section>
  );
}
