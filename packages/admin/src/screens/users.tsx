// People: the accounts with their roles (edited through PATCH /auth/users/:id, which ends the
// user's sessions), whether their email counts as verified (a superuser may set it; no session
// ends), and ending all of a user's sessions.

import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { User } from '@galley/sdk';
import { galley } from '../client.ts';
import { describeError, fieldErrorFor } from '../problems.ts';

function UserRow({ user }: { user: User }) {
  const client = useQueryClient();
  const [roles, setRoles] = useState(user.roles.join(', '));
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  async function act(what: () => Promise<unknown>, done: string) {
    setError(null);
    setMessage(null);
    try {
      await what();
      setMessage(done);
      await client.invalidateQueries({ queryKey: ['people'] });
    } catch (err) {
      setError(err);
    }
  }
  const rolesError = fieldErrorFor(error, 'roles');
  return (
    <tr>
      <th scope="row">{user.email}</th>
      <td>
        <div className="row">
          <span>{user.verified ? 'Verified' : 'Not verified'}</span>
          <button type="button" onClick={() => act(() => galley.users.setVerified(user.id, !user.verified), user.verified ? 'Marked unverified.' : 'Marked verified.')}>
            {user.verified ? 'Mark unverified' : 'Mark verified'}<span className="visually-hidden"> {user.email}</span>
          </button>
        </div>
      </td>
      <td>
        <form className="row" onSubmit={(e) => { e.preventDefault(); void act(() => galley.users.setRoles(user.id, roles.split(',').map((r) => r.trim()).filter(Boolean)), 'Roles saved; their sessions ended.'); }}>
          <label>
            <span className="visually-hidden">Roles of {user.email}</span>
            <input value={roles} onChange={(e) => setRoles(e.target.value)} aria-invalid={rolesError ? true : undefined} size={14} />
          </label>
          <button type="submit">Save roles</button>
        </form>
      </td>
      <td>
        <button type="button" onClick={() => act(() => galley.users.revokeSessions(user.id), 'Sessions ended.')}>End sessions<span className="visually-hidden"> of {user.email}</span></button>
        <span role="status" className={error ? 'field-error' : 'hint'}> {error ? rolesError ?? describeError(error) : message}</span>
      </td>
    </tr>
  );
}

export function UsersScreen() {
  const [search, setSearch] = useState('');
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const page = useQuery({ queryKey: ['people', search, cursor], queryFn: ({ signal }) => galley.users.list({ search, cursor, limit: 25 }, { signal }) });
  return (
    <section aria-labelledby="people-title">
      <div className="screen-head"><h1 id="people-title">People</h1></div>
      <div className="toolbar">
        <label className="grow">
          Search by email
          <input type="search" value={search} onChange={(e) => { setSearch(e.target.value); setCursors([]); }} />
        </label>
      </div>
      {page.isError && <p role="alert" className="form-error">{describeError(page.error)}</p>}
      <div className="table-wrap" tabIndex={0} role="region" aria-label="People">
        <table>
          <thead><tr><th scope="col">Email</th><th scope="col">Email verified</th><th scope="col">Roles</th><th scope="col">Sessions</th></tr></thead>
          <tbody aria-busy={page.isPending}>
            {page.data?.items.map((u) => <UserRow key={u.id} user={u} />)}
          </tbody>
        </table>
      </div>
      <div className="pager">
        <button type="button" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>Previous page</button>
        <button type="button" disabled={!page.data?.nextCursor} onClick={() => setCursors([...cursors, page.data!.nextCursor!])}>Next page</button>
      </div>
    </section>
  );
}
