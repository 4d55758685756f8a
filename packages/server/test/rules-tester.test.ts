// The rule tester (POST /collections/:name/rules/test) and the as-you-type check
// (POST /collections/:name/rules/check), superusers only, on SQLite and PostgreSQL: each rule's
// verdict for a chosen caller and record, with the evaluation trace (operands resolved, relations
// followed); bad input is validation_failed naming the member.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../src/testing/databases.ts';
import { createSignedInUser, createTestApp, type TestApp } from '../src/testing/test-app.ts';

const RULES = {
  list: "status = 'published' || author.name = 'Ada'",
  view: "status = 'published' || author = @request.auth.id",
  create: "@request.auth.id != '' || @request.auth.roles ?= 'editor'",
  update: "author = @request.auth.id && @request.body.status != 'archived'",
  delete: null,
};

await describeEachDialect('rule tester', (dialect) => {
  let t: TestApp;
  let ada: { id: string; token: string };
  let bob: { id: string; token: string };
  let draftId: string;
  let adminId: string;
  const run = (body: unknown, token?: string | null) => t.request('POST', '/api/v1/collections/posts/rules/test', { body, token });
  const verdict = (res: { body: { results: Array<{ rule: string }> } }, rule: string) => res.body.results.find((r) => r.rule === rule) as any;

  before(async () => {
    t = await createTestApp(dialect);
    ada = await createSignedInUser(t, 'ada@example.com');
    bob = await createSignedInUser(t, 'bob@example.com');
    await t.request('PATCH', '/api/v1/collections/users', { body: { rules: { list: '', view: '', update: 'id = @request.auth.id' } } });
    assert.equal((await t.request('PATCH', `/api/v1/collections/users/records/${ada.id}`, { body: { name: 'Ada' } })).status, 200);
    const created = await t.request('POST', '/api/v1/collections', {
      body: {
        name: 'posts',
        fields: [
          { name: 'title', type: 'text' },
          { name: 'status', type: 'select', values: ['draft', 'published', 'archived'] },
          { name: 'author', type: 'relation', collection: 'users' },
        ],
        rules: RULES,
      },
    });
    assert.equal(created.status, 201, created.text);
    draftId = (await t.request('POST', '/api/v1/collections/posts/records', { body: { title: 'Draft', status: 'draft', author: ada.id } })).body.id;
    adminId = (await t.request('GET', '/api/v1/auth/me')).body.user.id;
  });
  after(async () => t?.close());

  test('anonymous on a draft: each rule denied, and the trace shows each operand resolved', async () => {
    const res = await run({ auth: null, recordId: draftId });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.auth, null);
    assert.equal(res.body.record.id, draftId);
    assert.deepEqual(res.body.results.map((r: { rule: string }) => r.rule), ['list', 'view', 'create', 'update', 'delete']);
    const view = verdict(res, 'view');
    assert.equal(view.expression, RULES.view);
    assert.equal(view.allowed, false);
    assert.equal(view.reason, 'expression');
    assert.equal(view.trace.kind, 'or');
    assert.equal(view.trace.value, false);
    assert.deepEqual(
      { text: view.trace.left.text, left: view.trace.left.left.value, right: view.trace.left.right.value, value: view.trace.left.value },
      { text: "status = 'published'", left: 'draft', right: 'published', value: false },
    );
    const mine = view.trace.right;
    assert.deepEqual(
      { op: mine.op, left: mine.left, right: mine.right, value: mine.value, start: mine.start },
      {
        op: '=',
        left: { text: 'author', source: 'field', value: ada.id, comparable: true },
        right: { text: '@request.auth.id', source: 'request', value: '', comparable: true },
        value: false,
        start: RULES.view.indexOf('author'),
      },
    );
    assert.deepEqual(verdict(res, 'delete'), { rule: 'delete', expression: null, allowed: false, reason: 'superusers_only', trace: null });
  });

  test('another user is denied the view (author "ada" vs auth "bob"); the author is allowed, unless the body archives it', async () => {
    const asBob = await run({ auth: { userId: bob.id }, recordId: draftId, rules: ['view'] });
    assert.equal(asBob.status, 200, asBob.text);
    assert.equal(asBob.body.auth.id, bob.id);
    assert.equal(asBob.body.results.length, 1);
    const right = verdict(asBob, 'view').trace.right;
    assert.deepEqual([right.left.value, right.right.value, right.value], [ada.id, bob.id, false]);

    const asAda = await run({ auth: { userId: ada.id }, recordId: draftId, rules: ['view', 'update'], body: { status: 'archived' } });
    assert.equal(verdict(asAda, 'view').allowed, true);
    const update = verdict(asAda, 'update');
    assert.equal(update.allowed, false);
    assert.deepEqual([update.trace.left.value, update.trace.right.left.value, update.trace.right.value], [true, 'archived', false]);
    const edit = await run({ auth: { userId: ada.id }, recordId: draftId, rules: ['update'], body: { title: 'x' } });
    assert.equal(verdict(edit, 'update').allowed, true);
  });

  test('a relation path is followed: author.name resolves to the related user\'s name', async () => {
    const res = await run({ auth: null, recordId: draftId, rules: ['list'] });
    const list = verdict(res, 'list');
    assert.equal(list.allowed, true);
    assert.deepEqual([list.trace.right.text, list.trace.right.left.value, list.trace.right.value], ["author.name = 'Ada'", 'Ada', true]);
    const other = await run({ auth: null, recordId: draftId, record: { author: bob.id }, rules: ['list'] });
    assert.equal(verdict(other, 'list').allowed, false, '`record` overrides the stored values');
    assert.equal(verdict(other, 'list').trace.right.left.value, null, 'bob has no name');
  });

  test('a hypothetical caller with roles, and a draft record without recordId', async () => {
    const res = await run({ auth: { roles: ['editor'] }, record: { title: 'new' }, rules: ['create'] });
    assert.equal(res.status, 200, res.text);
    const create = verdict(res, 'create');
    assert.equal(create.allowed, true);
    assert.deepEqual([create.trace.left.value, create.trace.right.op, create.trace.right.left.value, create.trace.right.value], [false, '?=', ['editor'], true]);
  });

  test('a superuser passes every rule, null ones included, and still sees the traces', async () => {
    const res = await run({ auth: { userId: adminId }, recordId: draftId });
    for (const r of res.body.results) {
      assert.equal(r.allowed, true, r.rule);
      assert.equal(r.reason, 'superuser', r.rule);
    }
    assert.equal(verdict(res, 'view').trace.value, false, 'the expression itself is false for them');
  });

  test('failures: 401, 403, 404, and validation_failed naming each bad member', async () => {
    assert.equal((await run({ auth: null }, null)).status, 401);
    assert.equal((await run({ auth: null }, ada.token)).status, 403);
    const missing = await t.request('POST', '/api/v1/collections/nope/rules/test', { body: {} });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'not_found');
    const bad = await run({ auth: { userId: 'nosuchuser' }, recordId: 'nosuchrecord', record: 5, body: [], rules: ['view', 'bogus'], extra: 1 });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.body.code, 'validation_failed');
    assert.deepEqual(bad.body.errors.map((e: { field: string }) => e.field).sort(), ['auth.userId', 'body', 'extra', 'record', 'recordId', 'rules']);
    assert.equal((await run({ auth: 'bob' })).status, 400);
    assert.equal((await run({ auth: { roles: 'editor' } })).body.errors[0].field, 'auth.roles');
  });
});

await describeEachDialect('rule check', (dialect) => {
  let t: TestApp;
  const check = (name: string, body: unknown, token?: string | null) => t.request('POST', `/api/v1/collections/${name}/rules/check`, { body, token });
  before(async () => {
    t = await createTestApp(dialect);
    const created = await t.request('POST', '/api/v1/collections', { body: { name: 'notes', fields: [{ name: 'title', type: 'text' }, { name: 'owner', type: 'relation', collection: 'users' }] } });
    assert.equal(created.status, 201, created.text);
  });
  after(async () => t?.close());

  test('a valid rule is ok; "" is ok; a syntax or type error is invalid_filter with its position', async () => {
    assert.deepEqual((await check('notes', { expression: "title ~ 'x' && owner = @request.auth.id" })).body, { ok: true });
    assert.deepEqual((await check('notes', { expression: '' })).body, { ok: true });
    const syntax = await check('notes', { expression: 'title = ' });
    assert.equal(syntax.status, 400);
    assert.equal(syntax.body.code, 'invalid_filter');
    assert.equal(syntax.body.position, 8);
    const unknown = await check('notes', { expression: "title = 'a' && nope = 1" });
    assert.equal(unknown.body.position, 15);
    assert.match(unknown.body.detail, /unknown field "nope"/);
    const type = await check('notes', { expression: 'title > true' });
    assert.equal(type.status, 400);
    assert.equal(typeof type.body.position, 'number');
  });

  test('with the editor\'s unsaved fields: checked against the draft, even for a collection not created yet', async () => {
    const fields = [{ name: 'title', type: 'text' }, { name: 'score', type: 'number' }];
    assert.equal((await check('notes', { expression: 'score > 3' })).status, 400, 'not a field of the saved collection');
    assert.deepEqual((await check('notes', { expression: 'score > 3', fields })).body, { ok: true });
    assert.deepEqual((await check('drafts', { expression: 'score > 3', fields })).body, { ok: true });
    assert.equal((await check('drafts', { expression: "score > 'high'", fields })).body.code, 'invalid_filter');
    assert.equal((await check('drafts', { expression: 'score > 3' })).status, 404, 'no fields and no such collection');
    const bad = await check('drafts', { expression: 'x = 1', fields: [{ name: 'Bad Name', type: 'text' }] });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'validation_failed');
    assert.equal(bad.body.errors[0].field, 'fields[0].name');
    assert.equal((await check('notes', { expression: 5 })).body.errors[0].field, 'expression');
    assert.equal((await check('notes', { expression: 'title = 1' }, null)).status, 401);
    assert.deepEqual((await t.request('GET', '/api/v1/collections')).body.items.map((c: { name: string }) => c.name), ['notes', 'users'], 'nothing was created');
  });
});
