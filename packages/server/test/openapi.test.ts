// The OpenAPI document (contract §9): valid OpenAPI 3.1, one schema per collection, examples that
// the schemas accept, problem responses everywhere; and /api/v1/openapi.json and /docs over HTTP.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import SwaggerParser from '@apidevtools/swagger-parser';
import Fastify, { type FastifyInstance } from 'fastify';
import type { OpenAPI } from 'openapi-types';
import { ERROR_STATUS } from '@galley/protocol';
import type { CollectionDef } from '../src/core/collection-model.ts';
import { USERS_COLLECTION } from '../src/core/collections.ts';
import { buildOpenApiDocument } from '../src/http/openapi/document.ts';
import { pascalName } from '../src/http/openapi/record-schemas.ts';
import { registerProblemHandlers } from '../src/http/problem.ts';
import { docsRoutes, preferredEncoding } from '../src/http/routes/docs.ts';

type Json = Record<string, unknown>;
const obj = (value: unknown): Json => {
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `expected an object, got ${JSON.stringify(value)}`);
  return value as Json;
};

const users: CollectionDef = {
  ...USERS_COLLECTION,
  fields: [...USERS_COLLECTION.fields, { name: 'avatar', type: 'file', mimeTypes: ['image/png', 'image/jpeg'], maxSize: 1_048_576, thumbs: ['100x100'] }],
};

const posts: CollectionDef = {
  name: 'posts',
  fields: [
    { name: 'title', type: 'text', required: true, min: 3, max: 200 },
    { name: 'slug', type: 'text', required: true, max: 80, pattern: '^[a-z0-9]+(-[a-z0-9]+)*$' },
    { name: 'body', type: 'text' },
    { name: 'price', type: 'number', min: 0, max: 1e6 },
    { name: 'quantity', type: 'number', integer: true, min: 1, max: 99, required: true },
    { name: 'featured', type: 'boolean' },
    { name: 'published_at', type: 'date' },
    { name: 'contact', type: 'email' },
    { name: 'website', type: 'url' },
    { name: 'status', type: 'select', values: ['draft', 'published'], required: true },
    { name: 'tags', type: 'select', values: ['news', 'howto', 'release'], multiple: true },
    { name: 'meta', type: 'json' },
    { name: 'author', type: 'relation', collection: 'users', required: true },
    { name: 'editors', type: 'relation', collection: 'users', multiple: true },
    { name: 'cover', type: 'file', maxSize: 5_242_880, mimeTypes: ['image/png', 'image/jpeg', 'image/webp'], thumbs: ['100x100', '0x300'] },
    { name: 'attachments', type: 'file', multiple: true, mimeTypes: ['application/pdf'] },
  ],
  indexes: [{ fields: ['slug'], unique: true }],
  search: ['title', 'body'],
  rules: { list: "status = 'published'", view: "status = 'published'", create: "@request.auth.id != ''", update: 'author = @request.auth.id', delete: null },
};

const comments: CollectionDef = {
  name: 'comments',
  fields: [
    { name: 'post', type: 'relation', collection: 'posts', required: true },
    { name: 'author', type: 'relation', collection: 'users' },
    { name: 'parent', type: 'relation', collection: 'comments' },
    { name: 'body', type: 'text', required: true, max: 2000 },
  ],
  indexes: [],
  search: [],
  rules: { list: '', view: '', create: "@request.auth.id != ''", update: null, delete: null },
};

const blogAuthors: CollectionDef = { name: 'blog_authors', fields: [{ name: 'name', type: 'text' }], indexes: [], search: [], rules: {} };

const SAMPLE = [users, posts, comments, blogAuthors];
const doc = buildOpenApiDocument(SAMPLE, { version: '1.2.3' });
const schemas = obj(obj(doc.components).schemas);
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function operations(document: Json): Array<{ path: string; method: string; op: Json; pathItem: Json }> {
  const out = [];
  for (const [path, item] of Object.entries(obj(document.paths))) {
    for (const method of HTTP_METHODS) {
      const op = obj(item)[method];
      if (op !== undefined) out.push({ path, method, op: obj(op), pathItem: obj(item) });
    }
  }
  return out;
}

/** Follows a local `#/components/…` reference. */
function resolve(document: Json, value: unknown): Json {
  const o = obj(value);
  if (typeof o.$ref !== 'string') return o;
  let target: unknown = document;
  for (const token of o.$ref.replace(/^#\//, '').split('/')) target = obj(target)[token];
  return resolve(document, target);
}

describe('OpenAPI document', () => {
  test('passes the OpenAPI 3.1 validator', async () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(obj(doc.info).version, '1.2.3');
    // validate() dereferences in place, hence the clone; it rejects on any schema or $ref error.
    await SwaggerParser.validate(structuredClone(doc) as unknown as OpenAPI.Document);
  });

  test('the validator would catch a broken document', async () => {
    const broken = structuredClone(doc) as Json;
    obj(obj(obj(broken.components).parameters).Filter).in = 'body';
    await assert.rejects(SwaggerParser.validate(broken as unknown as OpenAPI.Document));
  });

  test('every schema is valid JSON Schema and accepts its own examples', async () => {
    // Fastify's Ajv compiles (and so meta-validates) each schema; coercion off so examples are taken as written.
    const app = Fastify({ ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: true, formats: { password: true } } } });
    // Local `#/components/schemas/X` references become references into one shared schema.
    app.addSchema(JSON.parse(JSON.stringify({ $id: 'galley.json', $defs: schemas }).replaceAll('#/components/schemas/', 'galley.json#/$defs/')) as Json);
    const checked: string[] = [];
    for (const [name, schema] of Object.entries(schemas)) {
      const examples = obj(schema).examples;
      if (!Array.isArray(examples)) continue;
      app.post(`/check/${name}`, { schema: { body: { $ref: `galley.json#/$defs/${name}` } } }, async () => ({ ok: true }));
      checked.push(name);
    }
    await app.ready();
    for (const name of checked) {
      for (const example of obj(schemas[name]).examples as unknown[]) {
        const res = await app.inject({ method: 'POST', url: `/check/${name}`, payload: example as Json });
        assert.equal(res.statusCode, 200, `${name} rejects its example ${JSON.stringify(example)}: ${res.body}`);
      }
    }
    // And the schemas do constrain: a wrong select value, an unknown field, a missing required one.
    const postsExample = obj((obj(schemas.PostsInput).examples as unknown[])[0]);
    const bad: Array<[string, Json]> = [
      ['PostsInput', { ...postsExample, status: 'archived' }],
      ['PostsInput', { ...postsExample, title: undefined }],
      ['PostsPatch', { nope: 1 }],
      ['CommentsInput', { body: 'hi' }],
      ['PostsPatch', { quantity: 2.5 }],
      ['PostsPatch', { title: 'ab' }],
      ['PostsPatch', { slug: 'Not A Slug' }],
      ['PostsPatch', { tags: ['news', 'gossip'] }],
    ];
    for (const [name, body] of bad) {
      const res = await app.inject({ method: 'POST', url: `/check/${name}`, payload: body });
      assert.equal(res.statusCode, 400, `${name} accepted ${JSON.stringify(body)}`);
    }
    await app.close();
  });

  test('one record, input, patch and list schema per collection, each with examples', () => {
    for (const c of SAMPLE) {
      const base = pascalName(c.name);
      for (const suffix of ['Record', 'Patch', 'List']) assert.ok(schemas[`${base}${suffix}`], `${base}${suffix} is missing`);
      // Accounts are made through /api/v1/auth, never as records.
      if (c.name === 'users') assert.equal(schemas.UsersInput, undefined);
      else assert.ok(schemas[`${base}Input`], `${base}Input is missing`);
      for (const suffix of ['Record', 'Input', 'Patch']) {
        const schema = schemas[`${base}${suffix}`];
        if (schema === undefined) continue;
        const examples = obj(schema).examples;
        assert.ok(Array.isArray(examples) && examples.length > 0, `${base}${suffix} has no examples`);
      }
      const record = obj(schemas[`${base}Record`]);
      for (const field of ['id', 'created', 'updated', ...c.fields.map((f) => f.name)]) assert.ok(obj(record.properties)[field], `${base}Record.${field}`);
    }
    assert.ok(schemas.BlogAuthorsRecord);
  });

  test('fields are typed by their type, with their limits', () => {
    const record = obj(obj(schemas.PostsRecord).properties);
    const input = obj(schemas.PostsInput);
    const inputProps = obj(input.properties);
    assert.deepEqual(obj(record.title), { type: 'string', minLength: 3, maxLength: 200 });
    assert.equal(obj(record.slug).pattern, '^[a-z0-9]+(-[a-z0-9]+)*$');
    assert.deepEqual(obj(record.price).type, ['number', 'null']);
    assert.equal(obj(record.price).minimum, 0);
    assert.equal(obj(record.quantity).type, 'integer');
    assert.equal(obj(record.quantity).maximum, 99);
    assert.deepEqual(obj(record.featured).type, ['boolean', 'null']);
    assert.equal(obj(record.published_at).format, 'date-time');
    assert.equal(obj(record.contact).format, 'email');
    assert.equal(obj(record.website).format, 'uri');
    assert.deepEqual(obj(record.status).enum, ['draft', 'published']);
    assert.equal(obj(record.tags).type, 'array');
    assert.deepEqual(obj(obj(record.tags).items).enum, ['news', 'howto', 'release']);
    assert.equal(obj(record.meta).type, undefined, 'json takes any value');
    assert.equal(obj(record.author).type, 'string');
    assert.equal(obj(obj(record.editors).items).type, 'string');
    assert.deepEqual(obj(record.cover).type, ['string', 'null']);
    assert.equal(obj(obj(record.attachments).items).type, 'string');
    // Expanded relations are the related collection's records.
    assert.deepEqual(obj(obj(record.expand).properties).author, { $ref: '#/components/schemas/UsersRecord' });
    assert.deepEqual(obj(obj(obj(schemas.CommentsRecord).properties).expand).properties, {
      post: { $ref: '#/components/schemas/PostsRecord' },
      author: { $ref: '#/components/schemas/UsersRecord' },
      parent: { $ref: '#/components/schemas/CommentsRecord' },
    });
    // Required fields are required on create only; an optional one may be cleared with null.
    assert.deepEqual(input.required, ['title', 'slug', 'quantity', 'status', 'author']);
    assert.equal(obj(schemas.PostsPatch).required, undefined);
    assert.deepEqual(obj(inputProps.body).type, ['string', 'null']);
    assert.deepEqual(obj(inputProps.tags).type, ['array', 'null']);
    assert.equal(input.additionalProperties, false);
    // A select's example is its first value.
    assert.equal((input.examples as Json[])[0]!.status, 'draft');
  });

  test('users schemas never show a password or its hash', () => {
    const leaks = (name: string) => Object.keys(obj(obj(schemas[name]).properties)).filter((k) => /password|hash/i.test(k));
    for (const name of ['UsersRecord', 'UsersPatch', 'User']) assert.deepEqual(leaks(name), [], name);
    assert.ok(obj(obj(schemas.UsersRecord).properties).avatar);
    // Even a definition that named account columns (validation forbids it) does not leak them.
    const tampered: CollectionDef = { ...users, fields: [...users.fields, { name: 'password', type: 'text' }, { name: 'password_hash', type: 'text' }] };
    const other = obj(obj(buildOpenApiDocument([tampered], { version: '1' }).components).schemas);
    for (const name of ['UsersRecord', 'UsersPatch', 'User']) {
      assert.deepEqual(Object.keys(obj(obj(other[name]).properties)).filter((k) => /password|hash/i.test(k)), [], name);
    }
  });

  test('concrete record paths per collection, with unique and stable operation ids', () => {
    const paths = obj(doc.paths);
    assert.deepEqual(Object.keys(obj(paths['/api/v1/collections/posts/records'])).sort(), ['get', 'post']);
    assert.deepEqual(Object.keys(obj(paths['/api/v1/collections/posts/records/{id}'])).sort(), ['delete', 'get', 'parameters', 'patch']);
    assert.deepEqual(Object.keys(obj(paths['/api/v1/collections/users/records'])), ['get']);
    const ids = operations(doc).map(({ op }) => op.operationId);
    assert.ok(ids.every((id) => typeof id === 'string' && /^[a-zA-Z][a-zA-Z0-9_]*$/.test(id)));
    assert.equal(new Set(ids).size, ids.length, 'operation ids are unique');
    for (const id of [
      'getHealth', 'getOpenApiDocument', 'login', 'logout', 'getCurrentUser', 'listCollections', 'createCollection', 'getCollection',
      'updateCollection', 'deleteCollection', 'runBatch', 'listPostsRecords', 'getPostsRecord', 'createPostsRecord', 'updatePostsRecord',
      'deletePostsRecord', 'listBlogAuthorsRecords', 'listUsersRecords',
    ]) assert.ok(ids.includes(id), id);
    // Each documented auth path is served: accounts-openapi.test.ts checks them against the running routes.
    for (const p of ['/api/v1/auth/login', '/api/v1/auth/logout', '/api/v1/auth/me', '/api/v1/auth/register', '/api/v1/auth/mfa', '/api/v1/auth/mfa/verify',
      '/api/v1/auth/mfa/totp', '/api/v1/auth/mfa/totp/confirm', '/api/v1/auth/mfa/recovery-codes', '/api/v1/auth/oauth', '/api/v1/auth/oauth/{provider}', '/api/v1/auth/oauth/{provider}/callback']) assert.ok(paths[p], p);
    // Stable: the same collections in another order give the same document.
    assert.deepEqual(buildOpenApiDocument([...SAMPLE].reverse(), { version: '1.2.3' }), doc);
  });

  test('every path template parameter is declared, and list parameters match the contract', () => {
    for (const { path, method, op, pathItem } of operations(doc)) {
      const declared = [...((pathItem.parameters as unknown[]) ?? []), ...((op.parameters as unknown[]) ?? [])].map((p) => resolve(doc, p));
      for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
        assert.ok(declared.some((p) => p.in === 'path' && p.name === name && p.required === true), `${method} ${path}: {${name}}`);
      }
    }
    const list = obj(obj(obj(doc.paths)['/api/v1/collections/posts/records']).get);
    const params = (list.parameters as unknown[]).map((p) => resolve(doc, p));
    assert.deepEqual(params.filter((p) => p.in === 'query').map((p) => p.name), ['filter', 'sort', 'limit', 'cursor', 'fields', 'expand', 'search', 'facets', 'count']);
    assert.deepEqual(obj(params.find((p) => p.name === 'limit')!.schema), { type: 'integer', minimum: 1, maximum: 200, default: 20 });
    const create = obj(obj(obj(doc.paths)['/api/v1/collections/posts/records']).post);
    assert.ok((create.parameters as unknown[]).map((p) => resolve(doc, p)).some((p) => p.name === 'Idempotency-Key' && p.in === 'header'));
    const created = obj(obj(create.responses)['201']);
    assert.ok(obj(created.headers).Location);
    const update = obj(obj(obj(doc.paths)['/api/v1/collections/posts/records/{id}']).patch);
    assert.ok(obj(update.responses)['412']);
    assert.ok(obj(obj(obj(obj(doc.paths)['/api/v1/collections/posts/records/{id}']).get).responses)['304']);
    const batch = resolve(doc, schemas.BatchRequest);
    assert.equal(obj(obj(batch.properties).operations).maxItems, 100);
  });

  test('every error response is an application/problem+json Problem', () => {
    const problem = obj(schemas.Problem);
    assert.deepEqual(obj(obj(problem.properties).code).enum, Object.keys(ERROR_STATUS));
    for (const { path, method, op } of operations(doc)) {
      const responses = Object.entries(obj(op.responses));
      const errors = responses.filter(([status]) => Number(status) >= 400);
      assert.ok(errors.length > 0, `${method} ${path} has no error responses`);
      for (const [status, response] of errors) {
        const content = obj(resolve(doc, response).content);
        assert.deepEqual(Object.keys(content), ['application/problem+json'], `${method} ${path} ${status}`);
        assert.deepEqual(obj(content['application/problem+json']).schema, { $ref: '#/components/schemas/Problem' });
      }
      for (const [status, response] of responses.filter(([s]) => Number(s) < 400)) {
        const content = resolve(doc, response).content;
        // Prometheus scrapes text; everything else answers JSON.
        const expected = path === '/metrics' ? ['text/plain'] : ['application/json'];
        if (content !== undefined) assert.deepEqual(Object.keys(obj(content)), expected, `${method} ${path} ${status}`);
      }
    }
    // Every code has an example under its status; 429 and 503 say when to retry.
    const responses = obj(obj(doc.components).responses);
    for (const [code, status] of Object.entries(ERROR_STATUS)) {
      const response = Object.values(responses).map(obj).find((r) => obj(obj(obj(r.content)['application/problem+json']).examples)[code]);
      assert.ok(response, `no example for ${code}`);
      const example = obj(obj(obj(obj(response.content)['application/problem+json']).examples)[code]).value;
      assert.equal(obj(example).status, status);
      if (status === 429 || status === 503) assert.ok(obj(response.headers)['Retry-After'], code);
    }
  });

  test('docs/errors.md documents every error code with its status', () => {
    const text = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    for (const [code, status] of Object.entries(ERROR_STATUS)) {
      assert.match(text, new RegExp(`^### \`${code}\`\n\n\\*\\*${status}\\.\\*\\*`, 'm'), code);
      assert.match(text, new RegExp(`^\\| ${status} \\| \\[\`${code}\`\\]`, 'm'), code);
    }
  });

  test('security schemes: an opaque bearer token and the galley_session cookie', () => {
    const schemes = obj(obj(doc.components).securitySchemes);
    assert.deepEqual({ ...obj(schemes.bearer), description: undefined }, { type: 'http', scheme: 'bearer', description: undefined });
    assert.equal(obj(schemes.cookie).in, 'cookie');
    assert.equal(obj(schemes.cookie).name, 'galley_session');
    assert.deepEqual(obj(obj(obj(doc.paths)['/api/v1/collections']).get).security, [{ bearer: [] }, { cookie: [] }]);
    assert.deepEqual(buildOpenApiDocument([], { version: '1', serverUrl: 'https://api.example.com/' }).servers, [{ url: 'https://api.example.com' }]);
  });

  test('collection names map to distinct schema names', () => {
    const names = ['posts', 'blog_posts', 'blogposts', 'a_b', 'a__b', 'ab', 'a_1', 'a1', 'a_'];
    const mapped = names.map(pascalName);
    assert.deepEqual(mapped.slice(0, 2), ['Posts', 'BlogPosts']);
    assert.equal(new Set(mapped).size, names.length, mapped.join(' '));
  });
});

describe('GET /api/v1/openapi.json and /docs', () => {
  async function docsApp(collections: CollectionDef[]) {
    let version = 1;
    let listed = 0;
    const app: FastifyInstance = Fastify();
    registerProblemHandlers(app);
    await app.register(docsRoutes, {
      listCollections: async () => {
        listed++;
        return [...collections];
      },
      collectionsVersion: () => version,
      version: '1.2.3',
    });
    return { app, bump: () => version++, listed: () => listed };
  }

  test('serves the document, rebuilt only when the collections version changes', async () => {
    const collections = [users, posts];
    const { app, bump, listed } = await docsApp(collections);
    const first = await app.inject('/api/v1/openapi.json');
    assert.equal(first.statusCode, 200);
    assert.match(String(first.headers['content-type']), /^application\/json/);
    const body = first.json<Json>();
    assert.ok(obj(body.paths)['/api/v1/collections/posts/records']);
    await SwaggerParser.validate(body as unknown as OpenAPI.Document);

    const again = await app.inject('/api/v1/openapi.json');
    assert.equal(again.body, first.body);
    assert.equal(listed(), 1, 'cached while the version is unchanged');
    const etag = String(first.headers.etag);
    const notModified = await app.inject({ url: '/api/v1/openapi.json', headers: { 'if-none-match': etag } });
    assert.equal(notModified.statusCode, 304);

    collections.push(comments);
    const stale = await app.inject('/api/v1/openapi.json');
    assert.equal(obj(stale.json<Json>().paths)['/api/v1/collections/comments/records'], undefined, 'no rebuild without a version change');
    bump();
    const fresh = await app.inject({ url: '/api/v1/openapi.json', headers: { 'if-none-match': etag } });
    assert.equal(fresh.statusCode, 200);
    assert.ok(obj(fresh.json<Json>().paths)['/api/v1/collections/comments/records']);
    assert.ok(obj(obj(fresh.json<Json>().components).schemas).CommentsRecord);
    assert.notEqual(fresh.headers.etag, etag);
    assert.equal(listed(), 2);

    const gzipped = await app.inject({ url: '/api/v1/openapi.json', headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gzipped.headers['content-encoding'], 'gzip');
    assert.equal(zlib.gunzipSync(gzipped.rawPayload).toString(), fresh.body);
    await app.close();
  });

  test('/docs references only local assets, and each one answers with its type', async () => {
    const { app } = await docsApp([users]);
    const page = await app.inject('/docs');
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /script-src 'self'(;|$)/);
    const html = page.body;
    assert.doesNotMatch(html, /https?:\/\//, 'no CDN or other origin');
    // No inline script: every <script> has a src and no body.
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.ok(scripts.length >= 2);
    for (const [, attrs, inner] of scripts) {
      assert.match(attrs!, /\ssrc="/);
      assert.equal(inner!.trim(), '');
    }
    const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(urls.length >= 3);
    const types: Record<string, RegExp> = { css: /^text\/css/, js: /^text\/javascript/ };
    for (const url of urls) {
      assert.match(url, /^\/docs\/assets\/[a-z-]+\.(css|js)\?v=/);
      const res = await app.inject(url);
      assert.equal(res.statusCode, 200, url);
      assert.match(String(res.headers['content-type']), types[url.split('?')[0]!.split('.').pop()!]!, url);
      assert.match(String(res.headers['cache-control']), /max-age=31536000/, url);
      assert.ok(res.rawPayload.length > 0, url);
    }
    const init = await app.inject(urls.find((u) => u.includes('galley-docs'))!);
    assert.match(init.body, /\/api\/v1\/openapi\.json/);

    const bundle = urls.find((u) => u.includes('bundle'))!;
    const brotli = await app.inject({ url: bundle, headers: { 'accept-encoding': 'gzip, br' } });
    assert.equal(brotli.headers['content-encoding'], 'br');
    assert.equal(zlib.brotliDecompressSync(brotli.rawPayload).length, (await app.inject(bundle)).rawPayload.length);
    // An asset URL without this build's tag must revalidate rather than be cached for a year.
    assert.equal((await app.inject('/docs/assets/swagger-ui.css')).headers['cache-control'], 'no-cache');
    await app.close();
  });

  test('only the allow-listed asset files are served', async () => {
    const { app } = await docsApp([users]);
    for (const url of [
      '/docs/assets/../../package.json',
      '/docs/assets/..%2F..%2Fpackage.json',
      '/docs/assets/%2e%2e%2fpackage.json',
      '/docs/assets/package.json',
      '/docs/assets/index.html',
      '/docs/assets/swagger-ui-bundle.js.map',
      '/docs/assets/__proto__',
      '/docs/assets/constructor',
    ]) {
      const res = await app.inject(url);
      assert.equal(res.statusCode, 404, url);
      assert.doesNotMatch(res.body, /"(version|dependencies|workspaces)"/, url);
    }
    await app.close();
  });

  test('content coding follows Accept-Encoding', () => {
    assert.equal(preferredEncoding(undefined), undefined);
    assert.equal(preferredEncoding('gzip, deflate, br'), 'br');
    assert.equal(preferredEncoding('gzip, br;q=0'), 'gzip');
    assert.equal(preferredEncoding('identity'), undefined);
    assert.equal(preferredEncoding('*'), 'br');
    assert.equal(preferredEncoding('*;q=0'), undefined);
  });
});
