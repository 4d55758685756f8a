// The audit log (GET /api/v1/audit): newest first, a filter expression (kept in the URL), and
// cursor paging.

import { useState, type FormEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import { galley } from '../client.ts';
import { describeError } from '../problems.ts';
import { navigate, useLocation, withQuery } from '../router.tsx';

export function AuditScreen() {
  const { query } = useLocation();
  const filter = query.get('filter') ?? '';
  const cursor = query.get('cursor') ?? undefined;
  const [typed, setTyped] = useState(filter);
  const page = useQuery({ queryKey: ['audit', filter, cursor], queryFn: ({ signal }) => galley.audit.list({ filter: filter || undefined, cursor, limit: 50 }, { signal }) });
  const apply = (event: FormEvent) => {
    event.preventDefault();
    navigate(withQuery('/audit', { filter: typed.trim() }));
  };
  return (
    <section aria-labelledby="audit-title">
      <div className="screen-head"><h1 id="audit-title">Audit log</h1></div>
      <form className="toolbar" onSubmit={apply} aria-label="Filter the audit log">
        <label className="grow">
          Filter
          <input value={typed} onChange={(e) => setTyped(e.target.value)} placeholder="action = 'login.failed'" aria-invalid={page.isError ? true : undefined} />
        </label>
        <button type="submit">Apply</button>
      </form>
      {page.isError && <p role="alert" className="form-error">{describeError(page.error)}</p>}
      <div className="table-wrap" tabIndex={0} role="region" aria-label="Audit entries">
        <table>
          <thead><tr><th scope="col">Time</th><th scope="col">Action</th><th scope="col">User</th><th scope="col">Email tried</th><th scope="col">Address</th><th scope="col">User agent</th></tr></thead>
          <tbody aria-busy={page.isPending}>
            {page.data?.items.map((e) => (
              <tr key={e.id}>
                <td>{new Date(e.created).toLocaleString()}</td>
                <th scope="row">{e.action}</th>
                <td>{e.user ?? '—'}</td>
                <td>{e.email ?? '—'}</td>
                <td>{e.ip ?? '—'}</td>
                <td title={e.user_agent ?? undefined}>{e.user_agent ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="pager">
        {cursor && <button type="button" onClick={() => navigate(withQuery('/audit', { filter }))}>First page</button>}
        <button type="button" disabled={!page.data?.nextCursor} onClick={() => navigate(withQuery('/audit', { filter, cursor: page.data!.nextCursor! }))}>Next page</button>
      </div>
    </section>
  );
}
