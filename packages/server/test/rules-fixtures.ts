// Test fixtures for the rules suites: a seeded PRNG, a posts/users schema with every field kind,
// random records in API shape, and a generator of random *valid* filters over that schema.

import type { CollectionDef } from '../src/core/collection-model.ts';
import type { RequestContext } from '../src/rules/request-context.ts';

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export class Random {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  subset<T>(items: readonly T[]): T[] {
    return items.filter(() => this.chance(0.4));
  }
}

export const USERS: CollectionDef = {
  name: 'users',
  fields: [
    { name: 'name', type: 'text' },
    { name: 'karma', type: 'number' },
    { name: 'joined', type: 'date' },
    { name: 'active', type: 'boolean' },
    { name: 'profile', type: 'json' },
    { name: 'mentor', type: 'relation', collection: 'users' },
  ],
  indexes: [],
  search: [],
  rules: {},
};

export const POSTS: CollectionDef = {
  name: 'posts',
  fields: [
    { name: 'title', type: 'text' },
    { name: 'views', type: 'number' },
    { name: 'published', type: 'boolean' },
    { name: 'published_at', type: 'date' },
    { name: 'status', type: 'select', values: ['draft', 'published', 'archived'] },
    { name: 'tags', type: 'select', values: ['a', 'b', 'c', 'sale'], multiple: true },
    { name: 'author', type: 'relation', collection: 'users' },
    { name: 'editors', type: 'relation', collection: 'users', multiple: true },
    { name: 'meta', type: 'json' },
  ],
  indexes: [],
  search: [],
  rules: {},
};

export const COLLECTIONS = [USERS, POSTS];
export const resolveCollection = (name: string) => COLLECTIONS.find((c) => c.name === name);

// Values chosen to agree under every case folding in play (no İ, no final Σ): see filter-compiler.ts.
const TEXTS = ['Müller', 'müller', 'MÜLLER', 'ÉCOLE', 'école', 'hello world', 'Hello', '', '100%', 'a_b', 'a%b', '😀 party', 'zeta', 'Zeta', 'ß', 'O\'Brien', 'say "hi"', 'back\\slash', 'tab\there', 'null', '10'];
const NUMBERS = [-10, -2.5, -0.5, 0, 0.25, 1, 3, 10, 42.75, 1e6];
const DATES = ['2024-05-01T00:00:00.000Z', '2024-05-01T10:00:00.000Z', '2024-05-01T08:00:00.000Z', '2023-12-31T23:59:59.999Z', '2025-01-01T00:00:00.000Z', '1999-01-01T00:00:00.000Z'];
const USER_IDS = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'];
export const NOW = '2024-06-01T12:00:00.000Z';

const maybe = <T>(rng: Random, value: () => T, nullChance = 0.15): T | null => (rng.chance(nullChance) ? null : value());

function jsonValue(rng: Random, depth = 0): unknown {
  const roll = rng.int(depth > 1 ? 4 : 6);
  if (roll === 0) return rng.pick(TEXTS);
  if (roll === 1) return rng.pick(NUMBERS);
  if (roll === 2) return rng.chance(0.5);
  if (roll === 3) return null;
  if (roll === 4) return [rng.pick(TEXTS), rng.pick(NUMBERS)];
  const object: Record<string, unknown> = {};
  for (const key of ['a', 'n', 'flag', 'nested', 'nil', 'x', 'k']) if (rng.chance(0.5)) object[key] = jsonValue(rng, depth + 1);
  return object;
}

export type ApiRecord = Record<string, unknown>;

/** Hand-written records (ids `h…`) whose expected results the semantics table spells out. */
export const HAND_USERS: ApiRecord[] = [
  { id: 'hu1', created: DATES[0], updated: DATES[0], name: 'Hanna', karma: 7, joined: '2024-05-01T10:00:00.000Z', active: true, profile: { x: 'Hi' }, mentor: 'hu2' },
  { id: 'hu2', created: DATES[0], updated: DATES[0], name: null, karma: null, joined: null, active: null, profile: null, mentor: null },
];
export const HAND_POSTS: ApiRecord[] = [
  {
    id: 'h1', created: DATES[1], updated: DATES[1], title: 'Müller', views: 10, published: true, published_at: '2024-05-01T10:00:00.000Z', status: 'published',
    tags: ['a', 'sale'], author: 'hu1', editors: ['hu1', 'hu2'], meta: { a: 'Müller', n: 5, flag: true, nested: { k: 'x' }, nil: null },
  },
  { id: 'h2', created: DATES[1], updated: DATES[1], title: 'ÉCOLE', views: -2.5, published: false, published_at: null, status: 'draft', tags: [], author: null, editors: [], meta: null },
  {
    id: 'h3', created: DATES[1], updated: DATES[1], title: null, views: null, published: null, published_at: '2023-12-31T23:59:59.999Z', status: null,
    tags: ['b'], author: 'ghost', editors: ['ghost'], meta: '5',
  },
  {
    id: 'h4', created: DATES[1], updated: DATES[1], title: '100%', views: 0, published: true, published_at: '2025-01-01T00:00:00.000Z', status: 'archived',
    tags: ['a'], author: 'hu2', editors: ['hu2'], meta: { n: '5', a: ['x'] },
  },
];

/** Random records in API shape (multi-value fields as arrays, never null; dates ISO). */
export function generateData(rng: Random): { users: ApiRecord[]; posts: ApiRecord[] } {
  const users = USER_IDS.map((id) => ({
    id,
    created: rng.pick(DATES),
    updated: rng.pick(DATES),
    name: maybe(rng, () => rng.pick(TEXTS)),
    karma: maybe(rng, () => rng.pick(NUMBERS)),
    joined: maybe(rng, () => rng.pick(DATES)),
    active: maybe(rng, () => rng.chance(0.5)),
    profile: maybe(rng, () => jsonValue(rng)),
    mentor: maybe(rng, () => rng.pick([...USER_IDS, 'ghost']), 0.3),
  }));
  const posts = Array.from({ length: 60 }, (_, i) => ({
    id: `p${String(i).padStart(2, '0')}`,
    created: rng.pick(DATES),
    updated: rng.pick(DATES),
    title: maybe(rng, () => rng.pick(TEXTS)),
    views: maybe(rng, () => rng.pick(NUMBERS)),
    published: maybe(rng, () => rng.chance(0.5)),
    published_at: maybe(rng, () => rng.pick(DATES)),
    status: maybe(rng, () => rng.pick(['draft', 'published', 'archived'])),
    tags: rng.subset(['a', 'b', 'c', 'sale']),
    author: maybe(rng, () => rng.pick([...USER_IDS, 'ghost'])),
    editors: rng.subset([...USER_IDS, 'ghost']),
    meta: maybe(rng, () => jsonValue(rng)),
  }));
  const byId = (a: ApiRecord, b: ApiRecord) => (String(a.id) < String(b.id) ? -1 : 1);
  return { users: [...users, ...HAND_USERS].sort(byId), posts: [...posts, ...HAND_POSTS].sort(byId) };
}

const AUTHS: (Record<string, unknown> | null)[] = [
  null,
  { id: 'u1', email: 'mia@example.com', verified: true, roles: ['editor'], name: 'Müller', karma: 3, joined: '2024-05-01T10:00:00.000Z', active: true, profile: { x: 'hi' } },
  { id: 'u2', email: 'li@example.com', verified: false, roles: [], name: null, karma: -2.5 },
  { id: 'ghost', email: 'g@example.com', verified: true, roles: ['editor', 'admin'], karma: '10' },
];

/** A random caller, body and time, mixing values that coerce and values that do not. */
export function generateRequest(rng: Random): RequestContext {
  const body: Record<string, unknown> = {};
  const pools: Record<string, unknown[]> = {
    s: ['Müller', 'abc', '10', 10, null, 'u1', 'published', true, '2024-05-01'],
    n: ['10', 10, -2.5, 'abc', '', null, true, ' 3 ', '1e6'],
    list: [['a', 'sale'], [], ['u1', 'u2', 'ghost'], [1, 'x', null], 'a', [{ nested: true }, 'b']],
    d: ['2024-05-01', 'not a date', 12345, NOW, '2024-05-01T12:00:00+02:00'],
    b: ['true', true, false, 'yes', null],
    obj: [{ a: 1 }, ['x']],
  };
  for (const [key, values] of Object.entries(pools)) if (rng.chance(0.8)) body[key] = rng.pick(values);
  return { auth: rng.pick(AUTHS), body, now: NOW };
}

type Kind = 'text' | 'number' | 'boolean' | 'date' | 'json';

const PATHS: Record<Kind, string[]> = {
  text: ['title', 'status', 'author', 'id', 'author.name', 'author.mentor.name', 'author.mentor', 'editors', 'editors.name', 'editors.mentor.name', 'tags'],
  number: ['views', 'author.karma', 'editors.karma', 'author.mentor.karma'],
  boolean: ['published', 'author.active', 'editors.active'],
  date: ['published_at', 'created', 'updated', 'author.joined', 'editors.joined'],
  json: ['meta', 'meta.a', 'meta.n', 'meta.flag', 'meta.nested', 'meta.nested.k', 'meta.nil', 'meta.missing', 'author.profile.x', 'editors.profile.a'],
};
const OPS: Record<Kind, string[]> = {
  text: ['=', '!=', '<', '<=', '>', '>=', '~', '!~'],
  number: ['=', '!=', '<', '<=', '>', '>='],
  boolean: ['=', '!='],
  date: ['=', '!=', '<', '<=', '>', '>='],
  json: ['=', '!=', '~', '!~'],
};
const REQUEST_REFS = [
  '@request.auth.id', '@request.auth.name', '@request.auth.karma', '@request.auth.roles', '@request.auth.missing', '@request.auth.profile.x',
  '@request.auth.joined', '@request.body.s', '@request.body.n', '@request.body.list', '@request.body.d', '@request.body.b', '@request.body.obj',
  '@request.body.missing', '@request.body.__proto__',
];

export function quote(rng: Random, text: string): string {
  const q = rng.chance(0.8) ? "'" : '"';
  const body = text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t').replaceAll(q, `\\${q}`);
  return `${q}${body}${q}`;
}

function literal(rng: Random, kind: Kind): string {
  switch (kind) {
    case 'text':
      return quote(rng, rng.pick([...TEXTS, 'mül', 'ÉCO', 'o', '%', '_', 'draft', 'published', 'sale', 'a', 'u1', 'u3', 'ghost', '😀']));
    case 'number':
      return rng.pick(['-10', '-2.5', '-0.5', '0', '-0', '.25', '1', '3', '10', '42.75', '1e6', '1E6', '2.5e-1', '7']);
    case 'boolean':
      return rng.pick(['true', 'false']);
    case 'date':
      return quote(rng, rng.pick(['2024-05-01', '2024-05-01T10:00:00Z', '2024-05-01 10:00', '2024-05-01T12:00:00+02:00', '2025-01-01T00:00:00.000Z', '2023-12-31T23:59:59.999Z', '1999-01-01', '2024-05-01T10:00:00.000+00:00']));
    case 'json':
      return rng.chance(0.5) ? literal(rng, 'text') : rng.chance(0.6) ? literal(rng, 'number') : literal(rng, 'boolean');
  }
}

function comparison(rng: Random): string {
  if (rng.chance(0.05)) {
    return rng.pick(["@request.auth.id != ''", "@request.auth.roles ?= 'editor'", "@request.auth.roles != 'admin'", "@now > '2024-01-01'", '1 = 1', "@request.body.s = 'abc'", '@request.body.list = null']);
  }
  const kind = rng.pick(Object.keys(PATHS) as Kind[]);
  const field = rng.pick(PATHS[kind]);
  const op = (rng.chance(0.3) ? '?' : '') + rng.pick(OPS[kind]);
  const roll = rng.next();
  let other: string;
  if (roll < 0.45) other = literal(rng, kind);
  else if (roll < 0.55) other = 'null';
  else if (roll < 0.77) other = rng.pick(REQUEST_REFS);
  else if (kind === 'date' && roll < 0.85) other = '@now';
  else if (kind !== 'json') other = rng.pick(PATHS[kind]);
  else other = literal(rng, kind);
  return rng.chance(0.3) ? `${other} ${op} ${field}` : `${field} ${op} ${other}`;
}

/** A random filter that parses and type-checks against POSTS. */
export function generateFilter(rng: Random, depth = 0): string {
  const roll = rng.next();
  if (depth >= 3 || roll < 0.45) return comparison(rng);
  if (roll < 0.5) return rng.pick(['true', 'false']);
  if (roll < 0.6) return `!(${generateFilter(rng, depth + 1)})`;
  const joined = `${generateFilter(rng, depth + 1)} ${rng.chance(0.5) ? '&&' : '||'} ${generateFilter(rng, depth + 1)}`;
  return rng.chance(0.5) ? `(${joined})` : joined;
}
