// galley.filter cannot be talked into a different expression: property tests build random
// templates with hostile values, parse the result with the server's own parser (@galley/expr),
// and check the tree is exactly the template's, with each value as one literal of its own.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ExprError, parseExpression, type Expr, type Operand } from '@galley/expr';
import { filter, type FilterScalar, type FilterValue } from '../src/index.ts';

const RUNS = 2000;

/** Calls the tag the way a template literal would, for templates built at run time. */
function tag(parts: readonly string[], values: readonly FilterValue[]): string {
  return filter(Object.assign([...parts], { raw: [...parts] }) as unknown as TemplateStringsArray, ...values);
}

/** The tree without positions: what the expression means. */
function shape(node: Expr | Operand): unknown {
  switch (node.kind) {
    case 'compare':
      return { kind: 'compare', op: node.op, any: node.any, left: shape(node.left), right: shape(node.right) };
    case 'and':
    case 'or':
      return { kind: node.kind, left: shape(node.left), right: shape(node.right) };
    case 'not':
      return { kind: 'not', expr: shape(node.expr) };
    case 'constant':
      return { kind: 'constant', value: node.value };
    case 'field':
      return { kind: 'field', path: node.path };
    case 'request':
      return { kind: 'request', source: node.source, path: node.path };
    case 'literal':
      return { kind: 'literal', value: node.value };
    case 'now':
      return { kind: 'now' };
  }
}

/** What a value means once parsed: dates travel as ISO text, -0 as 0. */
const meaning = (v: FilterScalar) => (v instanceof Date ? v.toISOString() : v === 0 ? 0 : v);
const lit = (v: FilterScalar) => ({ kind: 'literal', value: meaning(v) });
const field = (...path: string[]) => ({ kind: 'field', path });

/** Text built to break out of a literal: quotes, escapes, operators, parentheses, request refs. */
const hostileText = fc
  .array(fc.constantFrom("'", '"', '\\', "\\'", '||', '&&', '(', ')', '!', '=', '?=', ' ', '\n', 'true', 'null', '@request.auth.id', 'title', '1', '.', '-', '\u00e9', '😀', '\u2028'), { maxLength: 12 })
  .map((pieces) => pieces.join(''));
/** NUL and unpaired surrogates cannot be in any expression: they are tested apart. */
const carriable = (text: string) => !text.includes('\u0000') && text.isWellFormed();
const validText = fc.oneof(fc.string({ unit: 'binary' }), fc.string(), hostileText).filter(carriable);
const scalar: fc.Arbitrary<FilterScalar> = fc.oneof(
  validText,
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.date({ noInvalidDate: true, min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z') }),
);

test('a single value is always exactly one literal on the right of the comparison', () => {
  fc.assert(
    fc.property(scalar, fc.constantFrom('=', '!=', '>', '<=', '~', '?=', '?!~'), (value, op) => {
      const text = tag([`title ${op} `, ''], [value]);
      const any = op.startsWith('?');
      assert.deepEqual(shape(parseExpression(text)), { kind: 'compare', op: any ? op.slice(1) : op, any, left: field('title'), right: lit(value) }, text);
    }),
    { numRuns: RUNS },
  );
});

/** A random expression skeleton: comparisons of fields with holes, joined by &&, || and !, with parentheses. */
type Skeleton = { text: string; holes: number; expected: (values: FilterScalar[]) => unknown };
const skeleton: fc.Arbitrary<Skeleton> = fc.letrec<{ node: Skeleton }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ path: fc.constantFrom<string[]>(['title'], ['author', 'name'], ['meta', 'a', 'b']), op: fc.constantFrom('=', '!=', '>=', '~', '?=', '?<') }).map(({ path, op }) => ({
      text: `${path.join('.')} ${op} \u0000`,
      holes: 1,
      expected: ([v]: FilterScalar[]) => ({ kind: 'compare', op: op.replace('?', ''), any: op.startsWith('?'), left: field(...path), right: lit(v!) }),
    })),
    fc.tuple(tie('node'), fc.constantFrom('&&', '||'), tie('node')).map(([l, op, r]) => ({
      text: `(${l.text}) ${op} (${r.text})`,
      holes: l.holes + r.holes,
      expected: (vs: FilterScalar[]) => ({ kind: op === '&&' ? 'and' : 'or', left: l.expected(vs.slice(0, l.holes)), right: r.expected(vs.slice(l.holes)) }),
    })),
    tie('node').map((inner) => ({ text: `!(${inner.text})`, holes: inner.holes, expected: (vs: FilterScalar[]) => ({ kind: 'not', expr: inner.expected(vs) }) })),
  ),
})).node;

test('random templates with many hostile values parse to exactly the template tree', () => {
  fc.assert(
    fc.property(
      skeleton.filter((s) => s.holes <= 20),
      fc.array(scalar, { minLength: 20, maxLength: 20 }),
      (s, pool) => {
        const values = pool.slice(0, s.holes);
        const parts = s.text.split('\u0000');
        const text = tag(parts, values);
        assert.deepEqual(shape(parseExpression(text)), s.expected(values), text);
      },
    ),
    { numRuns: RUNS / 2 },
  );
});

test('arrays: "any of" after = and ?=, "none of" after !=; empty arrays match nothing (or everything)', () => {
  fc.assert(
    fc.property(fc.array(scalar, { maxLength: 8 }), fc.constantFrom('=', '?=', '!='), fc.constantFrom('tags', '@request.auth.roles'), (values, op, operand) => {
      const text = tag([`status = 'x' && ${operand} ${op} `, ''], [values]);
      const left = operand === 'tags' ? field('tags') : { kind: 'request', source: 'auth', path: ['roles'] };
      const compare = (v: FilterScalar) => ({ kind: 'compare', op: op.replace('?', ''), any: op === '?=', left, right: lit(v) });
      const join = op === '!=' ? 'and' : 'or';
      const [first, ...rest] = values.map(compare);
      const chained = first === undefined ? { kind: 'constant', value: op === '!=' } : rest.reduce<unknown>((a, b) => ({ kind: join, left: a, right: b }), first);
      assert.deepEqual(shape(parseExpression(text)), { kind: 'and', left: { kind: 'compare', op: '=', any: false, left: field('status'), right: lit('x') }, right: chained }, text);
    }),
    { numRuns: RUNS / 2 },
  );
});

test('a value never fuses with the text around it into another token', () => {
  const before = fc.constantFrom('price', 'x.', '1', '-', "'", '@').map((glued) => [`a = 1 && ${glued}`, ' = 2']);
  const after = fc.constantFrom('5', '.5', 'e3', 'abc', '.x', "'").map((glued) => ['a = 1 && ', `${glued} = 2`]);
  fc.assert(
    fc.property(fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), validText, fc.boolean(), fc.constant(null)), fc.oneof(before, after), (value, parts) => {
      let text: string;
      try {
        text = tag(parts, [value]);
      } catch (err) {
        // A glued quote would open a string around the value, a dot make it a name: refused before sending.
        assert.ok(err instanceof TypeError && /['.]$/.test(parts[0]!), String(err));
        return;
      }
      // Glued to a name or number the result is invalid, or the value still stands alone: never `price5`.
      try {
        const tree = parseExpression(text) as { kind: string; right: { left: unknown } };
        assert.deepEqual(shape(tree.right.left as Operand), lit(value as FilterScalar), text);
      } catch (err) {
        assert.ok(err instanceof ExprError, String(err));
      }
    }),
    { numRuns: RUNS },
  );
});

test('a value inside quotes of the template is refused (it would close them)', () => {
  assert.throws(() => filter`title = '${"x' || true || '"}'`, /outside quotes/);
  assert.throws(() => filter`title = "a ${1}"`, /outside quotes/);
  // Quotes that are closed, with escaped quotes inside, are fine.
  assert.equal(filter`title = 'it\'s' && body = ${'x'}`, "title = 'it\\'s' && body = 'x'");
  fc.assert(
    fc.property(scalar, fc.constantFrom("'", '"', "'abc", '"x \\" ', "'\\\\' '"), (value, opener) => {
      assert.throws(() => tag([`title = ${opener}`, "'"], [value]), TypeError);
    }),
    { numRuns: RUNS / 4 },
  );
});

test('any string at all: exactly that literal, or a TypeError when it holds NUL or an unpaired surrogate', () => {
  const anyUnit = fc.oneof(fc.string({ unit: 'binary', maxLength: 3 }), fc.constantFrom('\u0000', '\uD800', '\uDFFF', "'", '\\'));
  fc.assert(
    fc.property(fc.array(anyUnit, { maxLength: 8 }).map((units) => units.join('')), (value) => {
      if (!carriable(value)) return void assert.throws(() => filter`title = ${value}`, TypeError);
      assert.deepEqual(shape(parseExpression(filter`title = ${value}`)), { kind: 'compare', op: '=', any: false, left: field('title'), right: lit(value) });
    }),
    { numRuns: RUNS },
  );
});

test('values that no literal can carry are a TypeError at once', () => {
  for (const bad of [NaN, Infinity, -Infinity, new Date('nope'), undefined, {}, () => 1, Symbol('s'), 10n, '\u0000', 'a\uD800', '\uDC00b']) {
    assert.throws(() => filter`x = ${bad as never}`, TypeError, String(bad));
  }
  assert.throws(() => filter`x > ${['a'] as never}`, /must follow/);
  assert.throws(() => filter`${['a']}`, /must follow/);
  assert.throws(() => filter`author.${true} = 1`, /cannot follow "."/);
  assert.throws(() => filter`tags ?= ${[['nested']] as never}`, TypeError);
});

test('readable output for the common cases', () => {
  const q = "O'Brien \\ co";
  assert.equal(filter`name ~ ${q} && price >= ${10} && done = ${false} && deleted = ${null}`, "name ~ 'O\\'Brien \\\\ co' && price >= 10 && done = false && deleted = null");
  assert.equal(filter`created > ${new Date(Date.UTC(2024, 4, 1))}`, "created > '2024-05-01T00:00:00.000Z'");
  assert.equal(filter`tags ?= ${['a', 'b']}`, "(tags ?= 'a' || tags ?= 'b')");
  assert.equal(filter`status != ${['draft', 'archived']}`, "(status != 'draft' && status != 'archived')");
  assert.equal(filter`price>${-5}`, 'price>-5');
});
