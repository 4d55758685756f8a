// Facets on every database: counts per value for select, boolean and relation fields (single and
// multiple), number buckets, each field's own filter terms left out, under search and list rules,
// and bad facet requests as documented problems.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../src/testing/databases.ts';
import { createTestApp, type TestApp, type TestResponse } from '../src/testing/test-app.ts';

const RECORDS = '/api/v1/collections/products/records';

await describeEachDialect('facets', (dialect) => {
  let t: TestApp;
  let brands: Record<string, string>;
  const list = (query: string, token?: string | null) => t.request('GET', `${RECORDS}?${query}`, { token });
  const facets = async (query: string, token: string | null = null) => {
    const res = await list(query, token);
    assert.equal(res.status, 200, res.text);
    return res.body.facets;
  };

  before(async () => {
    t = await createTestApp(dialect);
    const brand = await t.request('POST', '/api/v1/collections', {
      body: { name: 'brands', fields: [{ name: 'name', type: 'text' }], rules: { list: '', view: '' } },
    });
    assert.equal(brand.status, 201, brand.text);
    brands = {};
    for (const name of ['acme', 'globex']) brands[name] = (await t.request('POST', '/api/v1/collections/brands/records', { body: { name } })).body.id;
    const res = await t.request('POST', '/api/v1/collections', {
      body: {
        name: 'products',
        fields: [
          { name: 'title', type: 'text' },
          { name: 'color', type: 'select', values: ['red', 'green', 'blue'] },
          { name: 'tags', type: 'select', values: ['sale', 'new', 'eco'], multiple: true },
          { name: 'instock', type: 'boolean' },
          { name: 'brand', type: 'relation', collection: 'brands' },
          { name: 'price', type: 'number' },
          { name: 'hidden', type: 'boolean' },
          { name: 'meta', type: 'json' },
        ],
        search: ['title'],
        rules: { list: 'hidden != true', view: '' },
      },
    });
    assert.equal(res.status, 201, res.text);
    const rows = [
      { title: 'red chair', color: 'red', tags: ['sale'], instock: true, brand: 'acme', price: 5 },
      { title: 'red table', color: 'red', tags: ['sale', 'new'], instock: false, brand: 'globex', price: 50 },
      { title: 'green chair', color: 'green', tags: ['eco'], instock: true, brand: 'acme', price: 10 },
      { title: 'blue chair', color: 'blue', tags: [], instock: true, brand: 'acme', price: 120 },
      { title: 'blue lamp', color: 'blue', tags: ['new'], instock: true, brand: 'globex', price: -1 },
      { title: 'untagged thing' },
      { title: 'secret chair', color: 'red', tags: ['sale'], instock: true, brand: 'acme', price: 5, hidden: true },
    ];
    for (const row of rows) {
      const created = await t.request('POST', RECORDS, { body: { ...row, brand: row.brand ? brands[row.brand] : undefined } });
      assert.equal(created.status, 201, created.text);
    }
  });
  after(async () => t?.close());

  test('counts per value, most frequent first; nulls and hidden records are not counted', async () => {
    const f = await facets('facets=color,tags,instock,brand&limit=1');
    assert.deepEqual(f.color, [{ value: 'blue', count: 2 }, { value: 'red', count: 2 }, { value: 'green', count: 1 }]);
    assert.deepEqual(f.tags, [{ value: 'new', count: 2 }, { value: 'sale', count: 2 }, { value: 'eco', count: 1 }]);
    assert.deepEqual(f.instock, [{ value: true, count: 4 }, { value: false, count: 1 }]);
    assert.deepEqual(f.brand, [{ value: brands.acme, count: 3 }, { value: brands.globex, count: 2 }]);
  });

  test('number buckets: half-open, with open ends, every bucket listed', async () => {
    const f = await facets('facets=price:0,10,100,color');
    assert.deepEqual(f.price, [
      { to: 0, count: 1 },
      { from: 0, to: 10, count: 1 },
      { from: 10, to: 100, count: 2 },
      { from: 100, count: 1 },
    ]);
    assert.equal(f.color.length, 3);
  });

  test("each facet leaves out its own top-level filter terms, and keeps everyone else's", async () => {
    const filter = encodeURIComponent("color = 'red' && instock = true");
    const res = await list(`filter=${filter}&facets=color,instock,tags`, null);
    assert.equal(res.body.items.length, 1);
    // color counts under "instock = true" only: the sibling colors stay visible.
    assert.deepEqual(res.body.facets.color, [{ value: 'blue', count: 2 }, { value: 'green', count: 1 }, { value: 'red', count: 1 }]);
    // instock counts under "color = 'red'" only.
    assert.deepEqual(res.body.facets.instock, [{ value: false, count: 1 }, { value: true, count: 1 }]);
    assert.deepEqual(res.body.facets.tags, [{ value: 'sale', count: 1 }]);
    // An OR over one field is still that field's own term; a term over two fields stays for both.
    const either = await facets(`filter=${encodeURIComponent("(color = 'red' || color = 'blue') && (tags ?= 'new' || instock = false)")}&facets=color`);
    assert.deepEqual(either.color, [{ value: 'blue', count: 1 }, { value: 'red', count: 1 }]);
  });

  test('facets asked together count as each one asked alone (one query serves them all)', async () => {
    // Terms of one field, of another, of a relation (a subquery), and one that mixes fields.
    const filters = [
      "color = 'red' && instock = true",
      "color != 'green' && price < 100 && brand.name = 'acme' && (tags ?= 'sale' || instock = false)",
      "instock = true && instock != false && color = 'blue'",
      '',
    ];
    const asked = ['color', 'tags', 'instock', 'brand', 'price:0,10,100'];
    for (const filter of filters) {
      for (const search of ['', '&search=chair']) {
        const query = `filter=${encodeURIComponent(filter)}${search}`;
        const together = await facets(`${query}&facets=${asked.join(',')}`);
        for (const facet of asked) {
          const alone = await facets(`${query}&facets=${facet}`);
          const name = facet.split(':')[0]!;
          assert.deepEqual(together[name], alone[name], `${query}: ${facet}`);
        }
      }
    }
  });

  test('facets count under the search, and the cursor does not move them', async () => {
    const first = await list('search=chair&facets=color&limit=1', null);
    assert.deepEqual(first.body.facets.color, [{ value: 'blue', count: 1 }, { value: 'green', count: 1 }, { value: 'red', count: 1 }]);
    const next = await list(`search=chair&facets=color&limit=1&cursor=${first.body.nextCursor}`, null);
    assert.deepEqual(next.body.facets, first.body.facets);
    // A superuser passes the list rule: the hidden chair counts too.
    const admin = await facets('search=chair&facets=color', t.adminToken);
    assert.deepEqual(admin.color[0], { value: 'red', count: 2 });
  });

  test('bad facet requests → 400 bad_request naming the problem; never a 500', async () => {
    const cases: Array<[string, string]> = [
      ['nope', 'unknown_field'],
      ['title', 'not_facetable'],
      ['meta', 'not_facetable'],
      ['id', 'unknown_field'],
      ['color,color', 'duplicate'],
      ['price', 'invalid_buckets'],
      ['price:', 'invalid_buckets'],
      ['price:abc', 'invalid_buckets'],
      ['price:10,5', 'invalid_buckets'],
      ['price:1,1', 'invalid_buckets'],
      ['price:0,1e999', 'invalid_buckets'],
      ['price:0x10', 'invalid_buckets'],
      [`price:${Array.from({ length: 25 }, (_, i) => i).join(',')}`, 'invalid_buckets'],
      ['color:1,2', 'invalid_buckets'],
      ['', 'unknown_field'],
      [',', 'unknown_field'],
      ['color,,tags', 'unknown_field'],
      ['"; DROP TABLE products; --', 'unknown_field'],
      ['\u0000', 'unknown_field'],
      ['color,tags,instock,brand,price:1,color2,a,b,c,d,e', 'unknown_field'],
    ];
    for (const [value, code] of cases) {
      const res = await list(`facets=${encodeURIComponent(value)}`);
      assert.equal(res.status, 400, `${JSON.stringify(value)}: ${res.text}`);
      assert.equal(res.body.code, 'bad_request', value);
      assert.equal(res.body.errors?.[0]?.code, code, `${JSON.stringify(value)}: ${res.text}`);
    }
    const filterError: TestResponse = await list(`facets=color&filter=${encodeURIComponent('color ==')}`);
    assert.equal(filterError.body.code, 'invalid_filter');
  });
});
