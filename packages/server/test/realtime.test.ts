// Realtime over WebSockets on every database (contract §8): envelopes, per-subscriber rules with the
// in-memory evaluator (relations included), record and filter subscriptions, `since` replay without
// gap or duplicate, resync past retention, and sessions that end mid-connection.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../src/testing/databases.ts';
import { RealtimeTestClient } from '../src/testing/realtime-client.ts';
import { createSignedInUser, createTestApp, webhookOutboxCaughtUp, type TestApp } from '../src/testing/test-app.ts';

const TEAMS = { name: 'teams', fields: [{ name: 'name', type: 'text' }, { name: 'public', type: 'boolean' }], rules: { list: '', view: '' } };
const NOTES = {
  name: 'notes',
  fields: [
    { name: 'title', type: 'text' },
    { name: 'status', type: 'select', values: ['draft', 'published'] },
    { name: 'owner', type: 'relation', collection: 'users' },
    { name: 'team', type: 'relation', collection: 'teams' },
  ],
  rules: {
    list: "status = 'published' || owner = @request.auth.id",
    view: "status = 'published' || owner = @request.auth.id",
    create: '', update: '', delete: '',
  },
};
// Visible only through a related record: events need the relation loaded to be checked.
const MEMOS = {
  name: 'memos',
  fields: [{ name: 'text', type: 'text' }, { name: 'team', type: 'relation', collection: 'teams' }],
  rules: { list: 'team.public = true', view: 'team.public = true', create: '', update: '', delete: '' },
};


await describeEachDialect('realtime', (dialect) => {
  let t: TestApp;
  let alice: { id: string; token: string };
  let bob: { id: string; token: string };
  const open: RealtimeTestClient[] = [];
  const connect = async (options: Parameters<typeof RealtimeTestClient.open>[1] = {}) => {
    const client = await RealtimeTestClient.open(t.url, options);
    open.push(client);
    return client;
  };
  const create = async (collection: string, body: Record<string, unknown>) => {
    const res = await t.request('POST', `/api/v1/collections/${collection}/records`, { body });
    assert.equal(res.status, 201, res.text);
    return res.body;
  };

  before(async () => {
    t = await createTestApp(dialect, { GALLEY_ALLOWED_ORIGINS: 'https://app.example' });
    for (const def of [TEAMS, NOTES, MEMOS]) assert.equal((await t.request('POST', '/api/v1/collections', { body: def })).status, 201);
    alice = await createSignedInUser(t, 'alice@example.com');
    bob = await createSignedInUser(t, 'bob@example.com');
  });
  after(async () => {
    open.forEach((c) => c.close());
    await t?.close();
  });

  test('subscribed carries the log position; create, update and delete arrive as events, a delete with the id only', async () => {
    const ws = await connect();
    const head = await t.app.services.changes.head();
    assert.deepEqual(await ws.subscribe({ id: 's1', collection: 'notes' }), { id: 's1', seq: head });
    const note = await create('notes', { title: 'hello', status: 'published' });
    const ev = await ws.next('event');
    assert.deepEqual(ev.data, { sub: 's1', action: 'create', record: note, seq: head + 1 });
    assert.ok(!Number.isNaN(Date.parse(ev.ts)));
    assert.equal((await t.request('PATCH', `/api/v1/collections/notes/records/${note.id}`, { body: { title: 'hi' } })).status, 200);
    const updated = await ws.next('event');
    assert.equal(updated.data.action, 'update');
    assert.equal(updated.data.record.title, 'hi');
    assert.equal((await t.request('DELETE', `/api/v1/collections/notes/records/${note.id}`)).status, 204);
    assert.deepEqual((await ws.next('event')).data, { sub: 's1', action: 'delete', record: { id: note.id }, seq: head + 3 });
  });

  test("each subscriber gets only what its list rule lets it see, evaluated for that subscriber", async () => {
    const anon = await connect();
    const a = await connect({ token: alice.token }); // authenticated at the handshake
    const b = await connect();
    b.send('auth', { token: bob.token }); // authenticated by message
    const admin = await connect({ token: t.adminToken });
    for (const ws of [anon, a, b, admin]) await ws.subscribe({ id: 'n', collection: 'notes' });
    const draft = await create('notes', { title: 'alice draft', status: 'draft', owner: alice.id });
    const published = await create('notes', { title: 'for all', status: 'published', owner: bob.id });
    assert.deepEqual((await a.take(2, 'event')).map((e) => e.data.record.id), [draft.id, published.id]);
    assert.deepEqual((await admin.take(2, 'event')).map((e) => e.data.record.id), [draft.id, published.id]);
    assert.equal((await anon.next('event')).data.record.id, published.id);
    assert.equal((await b.next('event')).data.record.id, published.id);
    await Promise.all([anon.quiet(), b.quiet()]);
  });

  test('record and filter subscriptions see only their records', async () => {
    const ws = await connect({ token: t.adminToken });
    const id = `watched${dialect.padEnd(8, '0')}`;
    await ws.subscribe({ id: 'one', collection: 'notes', recordId: id });
    await ws.subscribe({ id: 'starred', collection: 'notes', filter: "title ~ 'star'" });
    await create('notes', { id, title: 'watched', status: 'draft' });
    await create('notes', { title: 'unrelated' });
    const star = await create('notes', { title: 'a STAR is born' });
    await t.request('PATCH', `/api/v1/collections/notes/records/${id}`, { body: { status: 'published' } });
    const events = await ws.take(3, 'event');
    assert.deepEqual(events.map((e) => [e.data.sub, e.data.action, e.data.record.id]), [['one', 'create', id], ['starred', 'create', star.id], ['one', 'update', id]]);
    await ws.quiet();
  });

  test('a rule that follows a relation is checked against the related record', async () => {
    const open = await create('teams', { name: 'open', public: true });
    const closed = await create('teams', { name: 'closed', public: false });
    const ws = await connect();
    await ws.subscribe({ id: 'm', collection: 'memos' });
    await create('memos', { text: 'secret', team: closed.id });
    const visible = await create('memos', { text: 'shared', team: open.id });
    await create('memos', { text: 'no team' });
    assert.equal((await ws.next('event')).data.record.id, visible.id);
    await ws.quiet();
  });

  test('since replays every change after it in order, then goes live, with no gap and no duplicate', async () => {
    const start = await t.app.services.changes.head();
    const early = [];
    for (let i = 0; i < 3; i++) early.push(await create('notes', { title: `early ${i}`, status: 'published' }));
    const ws = await connect();
    // Writers keep going while the subscription replays and switches to live.
    const writing = Promise.all(Array.from({ length: 30 }, (_, i) => create('notes', { title: `racing ${i}`, status: 'published' })));
    await ws.subscribe({ id: 'r', collection: 'notes', since: start });
    await writing;
    const events = await ws.take(33, 'event');
    assert.deepEqual(events.map((e) => e.data.seq), Array.from({ length: 33 }, (_, i) => start + i + 1));
    assert.deepEqual(events.slice(0, 3).map((e) => e.data.record.id), early.map((r) => r.id));
    await ws.quiet();
    const live = await create('notes', { title: 'live', status: 'published' });
    assert.equal((await ws.next('event')).data.record.id, live.id);
  });

  test('since from before the retained log asks for a resync', async () => {
    const head = await t.app.services.changes.head();
    await create('notes', { title: 'to be pruned', status: 'published' });
    // Age-based pruning keeps what the webhook outbox has not read yet.
    await webhookOutboxCaughtUp(t);
    // Everything older than a day from "tomorrow": the whole log.
    assert.ok((await t.app.services.changes.prune(Date.now() + 25 * 3_600_000)) > 0);
    const ws = await connect();
    ws.send('subscribe', { id: 'old', collection: 'notes', since: head });
    assert.deepEqual((await ws.next('resync_required')).data, { sub: 'old' });
    // Subscribing again from now works.
    const now = await t.app.services.changes.head();
    assert.equal((await ws.subscribe({ id: 'old', collection: 'notes', since: now })).id, 'old');
  });

  test('a session that ends loses its connection at once; other connections carry on', async () => {
    const session = await createSignedInUser(t, 'carol@example.com');
    const carol = await connect({ token: session.token });
    await carol.subscribe({ id: 'c', collection: 'notes' });
    const other = await connect({ token: alice.token });
    await other.subscribe({ id: 'a', collection: 'notes' });
    const logout = await t.request('POST', '/api/v1/auth/logout', { token: session.token });
    assert.equal(logout.status, 204);
    // By the time logout answered, the server had already closed the connection.
    const err = await carol.next('error');
    assert.equal(err.data.code, 'unauthenticated');
    assert.deepEqual(await carol.closed, { code: 4001, reason: 'session ended' });
    await create('notes', { title: 'after logout', status: 'published' });
    assert.equal((await other.next('event')).data.record.title, 'after logout');
    // The ended token cannot authenticate a new connection either.
    await assert.rejects(RealtimeTestClient.open(t.url, { token: session.token }), /handshake refused: 401/);
    // Revoking every session of a user (a reset, a takeover) closes all of that user's connections.
    const erin = await createSignedInUser(t, 'erin@example.com');
    const erinSockets = [await connect({ token: erin.token }), await connect()];
    erinSockets[1]!.send('auth', { token: erin.token });
    await erinSockets[1]!.subscribe({ id: 'e', collection: 'notes' });
    await t.app.services.auth.revokeSessions(erin.id);
    for (const ws of erinSockets) assert.equal((await ws.closed).code, 4001);
    await create('notes', { title: 'after revocation', status: 'published' });
    assert.equal((await other.next('event')).data.record.title, 'after revocation');
  });

  test('the session cookie authenticates the handshake, but only from an allowed origin', async () => {
    const ws = await connect({ cookie: alice.token, origin: 'https://app.example' });
    await ws.subscribe({ id: 'mine', collection: 'notes' });
    const draft = await create('notes', { title: 'cookie draft', status: 'draft', owner: alice.id });
    assert.equal((await ws.next('event')).data.record.id, draft.id);
    await assert.rejects(RealtimeTestClient.open(t.url, { cookie: alice.token, origin: 'https://evil.example' }), /handshake refused: 403/);
  });

  test('a plain GET is told to upgrade', async () => {
    const res = await t.request('GET', '/api/v1/realtime');
    assert.equal(res.status, 426);
    assert.equal(res.body.code, 'bad_request');
  });
});
