// `galley typegen` end to end: from a live server (--url, with a token or the superuser's password)
// and from the database directly (--dir, or DATABASE_URL), the same types; the generated file and
// a usage file compile under `tsc --strict` with browser typings only, and misuse fails to compile.
// The command runs in-process (one spawned run checks the CLI's wiring and its error line).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describeEachDialect } from '../../server/src/testing/databases.ts';
import { ADMIN, createTestApp, type TestApp } from '../../server/src/testing/test-app.ts';
import { typegen } from '../../server/src/cli/typegen.ts';
import { ConfigError } from '../../server/src/config/config.ts';
import { createClient, GalleyError } from '../src/index.ts';
import { generateTypes } from '../src/typegen.ts';

const MAIN = fileURLToPath(new URL('../../server/src/cli/main.ts', import.meta.url));
const SDK = fileURLToPath(new URL('../src/index.ts', import.meta.url));

/** The real command, for its exit code and error line. */
function spawnGalley(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: { PATH: process.env.PATH, DATABASE_URL: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

async function rejects(promise: Promise<unknown>, check: (err: unknown) => boolean): Promise<void> {
  await assert.rejects(promise, (err) => {
    assert.ok(check(err), String(err));
    return true;
  });
}

/** The generated text without its first line, which names the source. */
const body = (text: string) => text.slice(text.indexOf('\n'));

const COLLECTIONS = [
  {
    name: 'posts',
    fields: [
      { name: 'title', type: 'text' as const, required: true, max: 200 },
      { name: 'body', type: 'text' as const },
      { name: 'price', type: 'number' as const, min: 0, integer: true },
      { name: 'status', type: 'select' as const, values: ['draft', 'published'] },
      { name: 'tags', type: 'select' as const, values: ['a', 'b', "it's"], multiple: true },
      { name: 'author', type: 'relation' as const, collection: 'users' },
      { name: 'cover', type: 'file' as const, maxSize: 1000, mimeTypes: ['image/png'] },
      { name: 'published_at', type: 'date' as const },
      { name: 'meta', type: 'json' as const },
      { name: 'site', type: 'url' as const },
      { name: 'contact', type: 'email' as const },
      { name: 'pinned', type: 'boolean' as const, required: true },
    ],
  },
  {
    name: 'post_comments',
    fields: [
      { name: 'post', type: 'relation' as const, collection: 'posts', required: true },
      { name: 'likes', type: 'relation' as const, collection: 'users', multiple: true },
      { name: 'text', type: 'text' as const, pattern: '^[^*/]+$' },
    ],
  },
];

/** Code a frontend would write against the generated types; every @ts-expect-error must be needed. */
const USAGE = `
import { createClient, type CreateInput } from ${JSON.stringify(SDK)};
import type { Collections, PostCommentsRecord, PostsRecord, UsersRecord } from './types.ts';

const galley = createClient<Collections>('https://api.example');
const posts = galley.collection('posts');

export async function use(): Promise<void> {
  const post = await posts.get('abc', { expand: 'author' });
  const title: string = post.title;
  const status: 'draft' | 'published' | null = post.status;
  const tags: Array<'a' | 'b' | "it's"> = post.tags;
  const price: number | null = post.price;
  const pinned: boolean = post.pinned;
  const author: UsersRecord | undefined = post.expand?.author;
  const email: string | undefined = author?.email;
  void [title, status, tags, price, pinned, email];

  await posts.create({ title: 'Hi', pinned: false, tags: ['a'], meta: { any: ['json', 1, null] } });
  // @ts-expect-error title is required
  await posts.create({ pinned: true });
  // @ts-expect-error a select takes only its values
  await posts.create({ title: 'x', pinned: true, status: 'archived' });
  // @ts-expect-error no such field
  await posts.update(post.id, { nope: 1 });
  // @ts-expect-error the server sets created
  await posts.update(post.id, { created: 'now' });

  const comments = galley.collection<PostCommentsRecord>('post_comments');
  const page = await comments.list({ expand: ['post', 'likes'], filter: galley.filter\`post = \${post.id}\` });
  const likers: UsersRecord[] | undefined = page.items[0]?.expand?.likes;
  const parent: PostsRecord | undefined = page.items[0]?.expand?.post;
  void [likers, parent];
  for await (const comment of comments.iterate({ sort: '-created' })) {
    const postId: string = comment.post;
    // @ts-expect-error likes are ids
    const wrong: number[] = comment.likes;
    void [postId, wrong];
  }
  const input: CreateInput<PostsRecord> = { title: 'typed', pinned: true };
  void input;
}
`;

/** One program for the good and the bad usage: compiling the DOM typings once is what costs. */
function compile(dir: string): string[] {
  const program = ts.createProgram([path.join(dir, 'usage.ts'), path.join(dir, 'broken.ts')], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true,
    // Browser typings only: the SDK must not lean on Node's.
    lib: ['lib.es2024.d.ts', 'lib.dom.d.ts'],
    types: [],
    skipLibCheck: true,
  });
  return ts.getPreEmitDiagnostics(program).map((d) => `${d.file ? path.basename(d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

const generatedBy: Partial<Record<string, string>> = {};

await describeEachDialect('typegen', (dialect) => {
  let t: TestApp;
  let dir: string;
  before(async () => {
    t = await createTestApp(dialect);
    const admin = createClient(t.url);
    await admin.auth.setToken(t.adminToken);
    for (const c of COLLECTIONS) await admin.collections.create(c);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'galley-typegen-'));
  });
  after(async () => {
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('--url with GALLEY_TOKEN or the superuser password, and from the database: the same types', async () => {
    const out = path.join(dir, 'types', 'galley.ts');
    const viaToken = await typegen(['--url', t.url, '--out', out], { GALLEY_TOKEN: t.adminToken });
    assert.equal(viaToken.collections, 3);
    const generated = fs.readFileSync(out, 'utf8');
    assert.equal(generated, viaToken.text);
    assert.match(generated, /^\/\/ Generated by `galley typegen` from http:\/\/127\.0\.0\.1:\d+\./);
    generatedBy[dialect] = generated;

    // An API key (what a CI job would hold) works as GALLEY_TOKEN; a key without `admin` is refused.
    const key = await t.request('POST', '/api/v1/auth/api-keys', { body: { name: 'typegen in CI', roles: ['admin'] } });
    assert.equal(key.status, 201, key.text);
    assert.equal((await typegen(['--url', t.url], { GALLEY_TOKEN: key.body.secret })).text, generated);
    const weak = await t.request('POST', '/api/v1/auth/api-keys', { body: { name: 'no admin', roles: [] } });
    await rejects(typegen(['--url', t.url], { GALLEY_TOKEN: weak.body.secret }), (e) => e instanceof GalleyError && e.status === 403);

    const sessionsBefore = (await t.app.services.db.all('SELECT "id" FROM "_sessions"')).length;
    const viaPassword = await typegen(['--url', t.url], { GALLEY_ADMIN_EMAIL: ADMIN.email, GALLEY_ADMIN_PASSWORD: ADMIN.password });
    assert.equal(viaPassword.text, generated);
    assert.equal(viaPassword.out, undefined);
    assert.equal((await t.app.services.db.all('SELECT "id" FROM "_sessions"')).length, sessionsBefore, 'the session it opened is closed again');

    const fromDb = dialect === 'sqlite' ? await typegen(['--dir', t.app.config.dataDir], {}) : await typegen([], { DATABASE_URL: t.app.config.databaseUrl! });
    assert.equal(body(fromDb.text), body(generated));
    assert.doesNotMatch(fromDb.text.split('\n')[0]!, /postgres:\/\/|\/tmp\//, 'the header never carries a database URL or a full path');

    for (const line of [
      'export interface PostsRecord {',
      '  title: string;',
      '  body: string | null;',
      '  status: "draft" | "published" | null;',
      `  tags: Array<"a" | "b" | "it's">;`,
      '  author: string | null;',
      '  meta: JsonValue;',
      '  pinned: boolean;',
      '    author?: UsersRecord;',
      'export interface PostCommentsRecord {',
      '  post: string;',
      '  likes: string[];',
      '    likes?: UsersRecord[];',
      '    post?: PostsRecord;',
      '  email?: string;',
      '  post_comments: PostCommentsRecord;',
    ]) {
      assert.ok(generated.includes(`${line}\n`), `expected the line ${JSON.stringify(line)} in:\n${generated}`);
    }
  });

  test('failures: a bad or non-superuser token, no credentials, a bad URL, no database', async () => {
    await rejects(typegen(['--url', t.url], { GALLEY_TOKEN: 'x'.repeat(43) }), (e) => e instanceof GalleyError && e.code === 'unauthenticated');
    await t.app.services.auth.createUser({ email: 'user@example.com', password: 'a long enough password' });
    const { token } = (await createClient(t.url).auth.login('user@example.com', 'a long enough password')) as { token: string };
    await rejects(typegen(['--url', t.url], { GALLEY_TOKEN: token }), (e) => e instanceof GalleyError && e.status === 403 && e.code === 'forbidden');
    await rejects(typegen(['--url', t.url], {}), (e) => e instanceof ConfigError && /needs GALLEY_TOKEN, or GALLEY_ADMIN_EMAIL and GALLEY_ADMIN_PASSWORD/.test(e.message));
    await rejects(typegen(['--url', 'ftp://x'], { GALLEY_TOKEN: t.adminToken }), (e) => e instanceof ConfigError && /--url must be an http\(s\) URL/.test(e.message));
    await rejects(typegen(['--url', t.url, '--dir', dir], {}), (e) => e instanceof ConfigError && /not both/.test(e.message));
    const missing = path.join(dir, 'no-such-data');
    await rejects(typegen(['--dir', missing], {}), (e) => e instanceof ConfigError && /no Galley database in/.test(e.message));
    assert.equal(fs.existsSync(missing), false, 'typegen never creates a data folder');
  });
});

test('the generated types and their use compile under --strict; misuse does not', async (t) => {
  const generated = generatedBy.sqlite;
  if (!generated) return void t.skip('the typegen suite did not produce a file');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'galley-tsc-'));
  try {
    fs.writeFileSync(path.join(dir, 'types.ts'), generated);
    fs.writeFileSync(path.join(dir, 'usage.ts'), USAGE);
    // And the check has teeth: a wrong type is reported.
    fs.writeFileSync(path.join(dir, 'broken.ts'), `import type { PostsRecord } from './types.ts';\nexport const broken: number = ({} as PostsRecord).title;\n`);
    const diagnostics = compile(dir);
    assert.deepEqual(diagnostics, ["broken.ts: Type 'string' is not assignable to type 'number'."]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the galley command: typegen is wired in, and a refused token is one line and exit 1', async () => {
  const run = await spawnGalley(['typegen', '--url', 'http://127.0.0.1:9'], { GALLEY_TOKEN: 'x'.repeat(43) });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /^galley: GET \/api\/v1\/collections: no answer from http:\/\/127\.0\.0\.1:9\n$/);
});

test('generateTypes: odd names stay distinct, comments cannot be closed by a pattern, relations to unknown collections stay usable', () => {
  const text = generateTypes([
    { name: 'a_b', fields: [{ name: 'x', type: 'text', pattern: 'a*/b' }], indexes: [], search: [], rules: {} },
    { name: 'a__b', fields: [{ name: 'r', type: 'relation', collection: 'gone', multiple: true }], indexes: [], search: [], rules: {} },
  ]);
  assert.match(text, /export interface ABRecord \{/);
  assert.match(text, /export interface ABRecord2 \{/);
  assert.doesNotMatch(text, /a\*\/b/);
  assert.match(text, /r\?: Array<\{ id: string; created: string; updated: string; \[field: string\]: unknown \}>;/);
});
