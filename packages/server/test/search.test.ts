// Full-text search on every database: folding, prefixes, ranking, filter/sort/cursor, the index kept
// in step with every write (and rolled back with it), rebuilt when `search` changes, and hostile text.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../src/testing/databases.ts';
import { createTestApp, type TestApp, type TestResponse } from '../src/testing/test-app.ts';

const RECORDS = '/api/v1/collections/articles/records';

const ARTICLES = {
  name: 'articles',
  fields: [
    { name: 'title', type: 'text' },
    { name: 'body', type: 'text' },
    { name: 'status', type: 'select', values: ['draft', 'published'] },
    { name: 'price', type: 'number' },
  ],
  search: ['title', 'body'],
  rules: { list: "status = 'published'", view: '', create: '', update: '', delete: '' },
};

const SEED = [
  { title: 'Müller und Söhne', body: 'a family business', status: 'published', price: 5 },
  { title: 'Gardening basics', body: 'notes by anna muller on roses', status: 'published', price: 10 },
  { title: 'Rose pruning', body: 'how to prune roses in spring', status: 'published', price: 20 },
  { title: 'Roses', body: 'everything about roses', status: 'published', price: 30 },
  { title: 'Secret roses', body: 'draft about roses', status: 'draft', price: 40 },
  { title: '東京の庭 garden', body: 'Ελληνικά κείμενα and roses', status: 'published', price: 50 },
];

function ids(res: TestResponse): string[] {
  assert.equal(res.status, 200, res.text);
  return res.body.items.map((r: { id: string }) => r.id);
}

function assertProblem(res: TestResponse, status: number, code: string, context: string): void {
  assert.equal(res.status, status, `${context}: ${res.text}`);
  assert.equal(res.body.code, code, context);
  assert.doesNotMatch(res.text, /SQLITE|fts5|tsquery|syntax error|at \w+ \(/i, `${context}: internals leaked`);
}

await describeEachDialect('search', (dialect) => {
  let t: TestApp;
  const byTitle = new Map<string, string>();
  const search = (query: string, extra = '', token?: string | null) =>
    t.request('GET', `${RECORDS}?search=${encodeURIComponent(query)}${extra}`, { token });
  const titles = async (query: string, extra = '') => {
    const res = await search(query, extra, null);
    assert.equal(res.status, 200, res.text);
    return res.body.items.map((r: { title: string }) => r.title);
  };

  before(async () => {
    t = await createTestApp(dialect);
    const res = await t.request('POST', '/api/v1/collections', { body: ARTICLES });
    assert.equal(res.status, 201, res.text);
    for (const body of SEED) {
      const created = await t.request('POST', RECORDS, { body });
      assert.equal(created.status, 201, created.text);
      byTitle.set(body.title, created.body.id);
    }
  });
  after(async () => t?.close());

  test('case and accents fold both ways; the last word is a prefix', async () => {
    assert.deepEqual((await titles('muller')).sort(), ['Gardening basics', 'Müller und Söhne']);
    assert.deepEqual((await titles('MÜLLER')).sort(), ['Gardening basics', 'Müller und Söhne']);
    assert.deepEqual(await titles('sohne'), ['Müller und Söhne']);
    assert.deepEqual(await titles('mül'), (await titles('muller')));
    // Only the last word is a prefix: "rose" alone matches "roses", "rose garden" needs "rose" whole.
    assert.equal((await titles('rose')).length, 4);
    assert.deepEqual(await titles('prun spr'), []);
    assert.deepEqual(await titles('prune spr'), ['Rose pruning']);
  });

  test('ranks title matches above body matches; the list rule still applies', async () => {
    const res = await titles('roses');
    assert.equal(res[0], 'Roses');
    assert.ok(!res.includes('Secret roses'), 'a draft is hidden by the list rule');
    // A superuser passes the rule.
    const all = await t.request('GET', `${RECORDS}?search=roses`);
    assert.ok(all.body.items.some((r: { title: string }) => r.title === 'Secret roses'));
  });

  test('combines with filter, an explicit sort and count', async () => {
    assert.deepEqual(await titles('roses', `&filter=${encodeURIComponent('price >= 20')}&sort=-price`), ['東京の庭 garden', 'Roses', 'Rose pruning']);
    const counted = await search('roses', '&count=true&limit=1', null);
    assert.equal(counted.body.totalItems, 4);
    assert.equal(counted.body.items.length, 1);
  });

  test('a ranked cursor walks every match exactly once, in rank order', async () => {
    const full = ids(await search('roses', '&limit=50', null));
    const walked: string[] = [];
    let cursor = '';
    for (let i = 0; i < 10; i++) {
      const res = await search('roses', `&limit=1${cursor ? `&cursor=${cursor}` : ''}`, null);
      walked.push(...ids(res));
      if (!res.body.nextCursor) break;
      cursor = res.body.nextCursor;
    }
    assert.deepEqual(walked, full);
    // A ranked cursor belongs to ranked lists only.
    assertProblem(await t.request('GET', `${RECORDS}?sort=title&cursor=${cursor}`), 400, 'bad_request', 'rank cursor on a sorted list');
  });

  test('mixed scripts and words from any alphabet', async () => {
    assert.deepEqual(await titles('東京の庭'), ['東京の庭 garden']);
    // Greek folds case on both; its accents fold on PostgreSQL (unaccent) but not in SQLite's tokenizer.
    assert.deepEqual(await titles('ΕΛΛΗΝΙΚΆ'), ['東京の庭 garden']);
  });

  test('updates, deletes and batches keep the index in the same transaction', async () => {
    const id = byTitle.get('Gardening basics')!;
    assert.equal((await t.request('PATCH', `${RECORDS}/${id}`, { body: { body: 'about tulips' } })).status, 200);
    assert.deepEqual(await titles('tulips'), ['Gardening basics']);
    assert.deepEqual(await titles('muller'), ['Müller und Söhne']);

    const batch = await t.request('POST', '/api/v1/batch', {
      body: { operations: [
        { action: 'create', collection: 'articles', body: { title: 'Orchids', status: 'published' } },
        { action: 'update', collection: 'articles', id: 'doesnotexist000', body: { title: 'x' } },
      ] },
    });
    assert.equal(batch.status, 404, batch.text);
    assert.deepEqual(await titles('orchids'), [], 'a rolled-back batch leaves no trace in the index');

    const ok = await t.request('POST', '/api/v1/batch', {
      body: { operations: [{ action: 'create', collection: 'articles', body: { title: 'Orchids', status: 'published' } }] },
    });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(await titles('orchids'), ['Orchids']);
    const orchid = ok.body.results[0].body.id;
    assert.equal((await t.request('DELETE', `${RECORDS}/${orchid}`)).status, 204);
    assert.deepEqual(await titles('orchids'), []);
  });

  test('search syntax in user text is text, never an error', async () => {
    const hostile = [
      '"', "'", '"roses', 'roses"', 'roses AND', 'OR roses', 'NOT roses', 'roses NEAR(x)', 'title:roses', 'roses*', '*', '^roses',
      '-roses', '(roses', 'roses)', '{roses}', 'ro:ses', '\\', '\u0000roses', 'roses\u0007\u001b[31m', '!!!', '&|!', "'; DROP TABLE articles; --",
      'rose\u0301s', '𝔯𝔬𝔰𝔢𝔰', 'roʼses', 'ʼ', 'ʺroses', 'x＼y', 'ro＇ses', 'roses'.padEnd(4000, 'x'), 'x'.repeat(8000),
    ];
    for (const text of hostile) {
      const res = await search(text, '', null);
      assert.equal(res.status, 200, `${JSON.stringify(text.slice(0, 40))}: ${res.text.slice(0, 300)}`);
    }
    assert.equal((await titles('roses NEAR')).length, 0, 'NEAR is a word, and no article holds it');
    assert.ok((await titles('"roses"')).length > 0, 'quotes are separators');
    assert.equal((await t.request('GET', `${RECORDS}?count=true`)).body.totalItems, 6, 'nothing changed');
  });

  test('bad searches are documented problems', async () => {
    assertProblem(await search('x'.repeat(10_240)), 400, 'bad_request', '10 KB search');
    const many = await search(Array.from({ length: 40 }, (_, i) => `w${i}`).join(' '));
    assertProblem(many, 400, 'bad_request', 'too many words');
    assert.equal(many.body.errors[0].code, 'too_many_words');
    await t.request('POST', '/api/v1/collections', { body: { name: 'plain', fields: [{ name: 'title', type: 'text' }] } });
    const plain = await t.request('GET', '/api/v1/collections/plain/records?search=x');
    assertProblem(plain, 400, 'bad_request', 'collection without search fields');
    assert.equal(plain.body.errors[0].code, 'not_searchable');
    // Text with no words is no search at all.
    assert.equal(ids(await t.request('GET', '/api/v1/collections/plain/records?search=%22%22')).length, 0);
  });

  test('changing the search fields rebuilds the index; renames and drops carry it along', async () => {
    let res = await t.request('PATCH', '/api/v1/collections/articles', { body: { search: ['body'] } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(await titles('pruning'), [], 'titles are no longer searched');
    assert.deepEqual(await titles('prune'), ['Rose pruning']);

    res = await t.request('PATCH', '/api/v1/collections/articles', {
      body: { name: 'posts', fields: [...res.body.fields.map((f: { name: string }) => (f.name === 'title' ? { ...f, name: 'headline' } : f))], search: ['headline', 'body'] },
    });
    assert.equal(res.status, 200, res.text);
    const posts = await t.request('GET', '/api/v1/collections/posts/records?search=pruning&fields=headline');
    assert.deepEqual(posts.body.items, [{ headline: 'Rose pruning' }]);
    const created = await t.request('POST', '/api/v1/collections/posts/records', { body: { headline: 'Peonies', status: 'published' } });
    assert.equal(created.status, 201, created.text);
    assert.equal(ids(await t.request('GET', '/api/v1/collections/posts/records?search=peon')).length, 1);

    assert.equal((await t.request('DELETE', '/api/v1/collections/posts')).status, 204);
    assert.equal((await t.request('POST', '/api/v1/collections', { body: ARTICLES })).status, 201, 'the name and its index are free again');
    assert.equal(ids(await search('roses')).length, 0);
  });
});
