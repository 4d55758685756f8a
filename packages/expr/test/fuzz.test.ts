// Fuzzes the parser with 130,000 seeded inputs: random text over the grammar's alphabet, token soup,
// and mutations of valid expressions. It must return a sound AST or throw ExprError — nothing else.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExprError, MAX_LENGTH, MAX_NODES, parseExpression, type Expr, type Operand } from '@galley/expr';

const SEED = Number(process.env.GALLEY_FUZZ_SEED ?? 424_242);

/** mulberry32: deterministic for a seed on every machine. */
function createRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    let t = (state = (state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, chance: (p: number) => next() < p, pick: <T>(items: readonly T[]): T => items[int(items.length)]! };
}
type Random = ReturnType<typeof createRandom>;

const OPERATORS = ['=', '!=', '>', '>=', '<', '<=', '~', '!~', '?=', '?!=', '?>', '?>=', '?<', '?<=', '?~', '?!~'];
const ALPHABET = [
  ...'abcxyzAZ_019 \t\n\'"\\=!<>~?&|().@-+eEu#[],;*/%$'.split(''),
  'é', 'ß', '😀', '\uD800', '\uDC00', '\u0000', '\u00a0', '\u2028', '\uFEFF',
];
const TOKENS = [
  'title', 'a', 'author.name', 'a.b.c', '__proto__', 'constructor', 'prototype', 'true', 'false', 'null', 'NULL', 'AND',
  '@now', '@request.auth.id', '@request.body.x', '@request.auth.__proto__', '@request', '@', '@request.', '@request.body',
  "'x'", '"y"', "'it\\'s'", "'", '"', "'unterminated", "'\\u00e9'", "'\\uD83D\\uDE00'", "'\\uD800'", "'\\x'", "'\\u12'", "'\\u0000'",
  '1', '-2.5', '.5', '-.5', '1e3', '1e309', '-1e309', '9'.repeat(400), '1e', '0x10', '1_000', '1.2.3',
  ...OPERATORS, '&&', '||', '!', '(', ')', '&', '|', '?', '.', '==', '<>',
  "'; DROP TABLE x; --", "' OR 1=1 --", '/* */', '--', ';', '\uD800', '\u0000', '😀',
];

/** An input for a failure message: long ones are cut (the seed replays them whole). */
const show = (text: string) => (text.length > 200 ? `${JSON.stringify(text.slice(0, 200))}… (${text.length} characters)` : JSON.stringify(text));

/** Checks one input against the property; returns whether it parsed. */
function check(text: string): boolean {
  let expr: Expr;
  try {
    expr = parseExpression(text);
  } catch (err) {
    if (!(err instanceof ExprError)) assert.fail(`threw ${String(err)} (not an ExprError) for ${show(text)}`);
    if (!Number.isInteger(err.position) || err.position < 0 || err.position > text.length) {
      assert.fail(`position ${err.position} outside [0, ${text.length}] for ${show(text)}: ${err.message}`);
    }
    return false;
  }
  checkTree(expr, text);
  return true;
}

/** A sound tree: spans nest inside the text and their parents, literals are finite and well-formed, size is bounded. */
function checkTree(root: Expr, text: string): void {
  let nodes = 0;
  const span = (node: { start: number; end: number }, parent: { start: number; end: number }) => {
    nodes++;
    if (!(parent.start <= node.start && node.start <= node.end && node.end <= parent.end)) {
      assert.fail(`span [${node.start}, ${node.end}] outside [${parent.start}, ${parent.end}] in ${show(text)}`);
    }
  };
  const operand = (o: Operand, parent: Expr) => {
    span(o, parent);
    if (o.kind === 'literal' && typeof o.value === 'number') assert.ok(Number.isFinite(o.value), text);
    if (o.kind === 'literal' && typeof o.value === 'string') assert.ok(o.value.isWellFormed() && !o.value.includes('\u0000'), text);
    if (o.kind === 'field' || o.kind === 'request') assert.ok(o.path.length > 0 && o.path.every((p) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(p)), text);
  };
  const walk = (e: Expr, parent: { start: number; end: number }) => {
    span(e, parent);
    if (e.kind === 'compare') {
      assert.ok(OPERATORS.includes(`${e.any ? '?' : ''}${e.op}`), text);
      assert.ok(e.left.end <= e.opStart && e.opStart < e.right.start, text);
      operand(e.left, e);
      operand(e.right, e);
    } else if (e.kind === 'not') walk(e.expr, e);
    else if (e.kind === 'and' || e.kind === 'or') {
      walk(e.left, e);
      walk(e.right, e);
    }
  };
  walk(root, { start: 0, end: text.length });
  assert.ok(nodes <= MAX_NODES * 2, `${nodes} nodes for ${show(text)}`);
}

// ---- Valid expressions, written by a small generator of the grammar.

function stringLiteral(rng: Random): string {
  const quote = rng.pick(["'", '"']);
  const parts = Array.from({ length: rng.int(6) }, () =>
    rng.pick(['x', 'Müller', '😀', ' ', '%', '_', '\\\\', `\\${quote}`, '\\n', '\\t', '\\u00e9', '\\uD83D\\uDE00', "'; DROP TABLE x; --".replaceAll(quote, `\\${quote}`), '__proto__']),
  );
  return `${quote}${parts.join('')}${quote}`;
}

function operand(rng: Random): string {
  const ident = () => rng.pick(['title', 'a', 'b_2', 'author', 'name', 'meta', '__proto__', 'constructor', 'X']);
  const path = () => Array.from({ length: 1 + rng.int(3) }, ident).join('.');
  switch (rng.int(8)) {
    case 0:
    case 1:
      return path();
    case 2:
      return stringLiteral(rng);
    case 3:
      return rng.pick(['0', '-1', '3.25', '-0.5', '.5', '1e3', '2.5E-2', '-1e+2', '1e308', '123456789012345678901234567890']);
    case 4:
      return rng.pick(['true', 'false', 'null']);
    case 5:
      return '@now';
    default:
      return `@request.${rng.pick(['auth', 'body'])}.${path()}`;
  }
}

const space = (rng: Random) => rng.pick(['', ' ', ' ', '  ', '\n', '\t']);

function validExpression(rng: Random, depth = 0): string {
  const roll = rng.next();
  if (depth >= 4 || roll < 0.4) return `${operand(rng)}${space(rng)}${rng.pick(OPERATORS)}${space(rng)}${operand(rng)}`;
  if (roll < 0.45) return rng.pick(['true', 'false']);
  if (roll < 0.55) return `!${space(rng)}(${validExpression(rng, depth + 1)})`;
  if (roll < 0.65) return `(${space(rng)}${validExpression(rng, depth + 1)}${space(rng)})`;
  return `${validExpression(rng, depth + 1)} ${rng.pick(['&&', '||'])} ${validExpression(rng, depth + 1)}`;
}

// ---- Mutations of valid expressions.

function mutate(rng: Random, text: string): string {
  const at = rng.int(text.length + 1);
  switch (rng.int(10)) {
    case 0: // insert a token
      return `${text.slice(0, at)}${rng.pick(TOKENS)}${text.slice(at)}`;
    case 1: {
      // delete a span
      const end = at + 1 + rng.int(6);
      return text.slice(0, at) + text.slice(end);
    }
    case 2: {
      // swap two space-separated tokens
      const words = text.split(' ');
      const i = rng.int(words.length);
      const j = rng.int(words.length);
      [words[i], words[j]] = [words[j]!, words[i]!];
      return words.join(' ');
    }
    case 3: // replace a character
      return `${text.slice(0, at)}${rng.pick(ALPHABET)}${text.slice(at + 1)}`;
    case 4: // truncate (often leaves a string or parenthesis open)
      return text.slice(0, at);
    case 5: {
      // deep nesting around the whole
      const n = 28 + rng.int(10);
      return `${rng.pick(['(', '!', '!('])}`.repeat(n) + text + ')'.repeat(rng.int(2 * n));
    }
    case 6: // repeat until near or over the length bound
      return Array.from({ length: Math.ceil((MAX_LENGTH - 50 + rng.int(100)) / (text.length + 4)) }, () => text).join(' && ');
    case 7: // a hostile fragment
      return `${text.slice(0, at)}${rng.pick(["'; DROP TABLE x; --", '__proto__', '1e999', '9'.repeat(500), "'\\uDBFF'", "'\u{10FFFF}'", '\uDFFF', '@request.body.__proto__.polluted'])}${text.slice(at)}`;
    case 8: // duplicate a slice
      return text.slice(0, at) + text.slice(rng.int(at + 1), at) + text.slice(at);
    default: // split a surrogate pair or a multi-unit character
      return text.replace('😀', rng.pick(['\uD83D', '\uDE00', '\uD83D\uD83D']));
  }
}

test(`fuzz: 130,000 inputs give an AST or an ExprError within bounds (seed ${SEED})`, { timeout: 30_000 }, (t) => {
  t.diagnostic(`seed ${SEED} (set GALLEY_FUZZ_SEED to replay another)`);
  const rng = createRandom(SEED);
  let parsed = 0;
  let rejected = 0;
  const run = (text: string) => (check(text) ? parsed++ : rejected++);

  for (let i = 0; i < 40_000; i++) run(Array.from({ length: rng.int(80) }, () => rng.pick(ALPHABET)).join(''));
  for (let i = 0; i < 30_000; i++) run(Array.from({ length: 1 + rng.int(25) }, () => rng.pick(TOKENS)).join(rng.pick(['', ' '])));
  for (let i = 0; i < 10_000; i++) {
    const text = validExpression(rng);
    assert.equal(check(text), true, `a valid expression was refused: ${show(text)}`);
    parsed++;
    let mutated = text;
    for (let m = 0; m < 5; m++) {
      mutated = mutate(rng, mutated);
      run(mutated);
    }
  }
  t.diagnostic(`${parsed} parsed, ${rejected} rejected`);
  assert.equal(parsed + rejected, 130_000);
  // 10,000 valid expressions, and some mutations that stay valid (e.g. a swap of two operands).
  assert.ok(parsed > 12_000 && rejected > 50_000, 'the mix exercises both outcomes');
});

test('adversarial inputs at the length bound finish (no quadratic paths)', { timeout: 10_000 }, () => {
  const inputs = [
    '('.repeat(MAX_LENGTH),
    '!'.repeat(MAX_LENGTH),
    `'${'\\'.repeat(MAX_LENGTH - 2)}'`,
    `'${"\\'".repeat((MAX_LENGTH - 2) / 2)}`,
    'a.'.repeat(MAX_LENGTH / 2),
    '1'.repeat(MAX_LENGTH),
    'a = 1 && '.repeat(455).slice(0, MAX_LENGTH),
    '@request.body.'.repeat(292),
    ' '.repeat(MAX_LENGTH - 1) + 'a',
    '?'.repeat(MAX_LENGTH),
  ];
  for (const text of inputs) {
    assert.ok(text.length <= MAX_LENGTH, `${text.length}`);
    check(text);
  }
});
