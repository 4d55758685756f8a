// Unit tests of the expression grammar: operands, operators, precedence, escapes, spans, limits,
// and every error the scanner and parser raise, with its position.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ExprError, MAX_DEPTH, MAX_LENGTH, parseExpression, type Comparison, type Expr, type Operand } from '@galley/expr';

function comparison(text: string): Comparison {
  const expr = parseExpression(text);
  assert.equal(expr.kind, 'compare', text);
  return expr as Comparison;
}
const right = (text: string): Operand => comparison(`a = ${text}`).right;

/** The tree without spans, as a compact string: `(a = 1 && !(b ~ 'x'))`. */
function shape(expr: Expr): string {
  const operand = (o: Operand): string => {
    switch (o.kind) {
      case 'field':
        return o.path.join('.');
      case 'request':
        return `@request.${o.source}.${o.path.join('.')}`;
      case 'now':
        return '@now';
      case 'literal':
        return JSON.stringify(o.value);
    }
  };
  switch (expr.kind) {
    case 'compare':
      return `${operand(expr.left)} ${expr.any ? '?' : ''}${expr.op} ${operand(expr.right)}`;
    case 'and':
      return `(${shape(expr.left)} && ${shape(expr.right)})`;
    case 'or':
      return `(${shape(expr.left)} || ${shape(expr.right)})`;
    case 'not':
      return `!${shape(expr.expr)}`;
    case 'constant':
      return String(expr.value);
  }
}

describe('operands', () => {
  test('field paths', () => {
    assert.deepEqual(comparison('title = 1').left, { kind: 'field', path: ['title'], start: 0, end: 5 });
    assert.deepEqual(comparison('author.name_2.X = 1').left, { kind: 'field', path: ['author', 'name_2', 'X'], start: 0, end: 15 });
    assert.deepEqual(comparison('_a = 1').left, { kind: 'field', path: ['_a'], start: 0, end: 2 });
  });
  test('strings in either quote, with escapes', () => {
    assert.deepEqual(right("'galley'"), { kind: 'literal', value: 'galley', start: 4, end: 12 });
    assert.deepEqual(right('"galley"'), { kind: 'literal', value: 'galley', start: 4, end: 12 });
    assert.equal((right(String.raw`'a\'b\"c\\d\ne\tf\rg'`) as { value: string }).value, 'a\'b"c\\d\ne\tf\rg');
    assert.equal((right(String.raw`"\u00e9\u00C9\ud83d\ude00"`) as { value: string }).value, 'éÉ😀');
    assert.equal((right(`'Müller 😀'`) as { value: string }).value, 'Müller 😀');
    assert.equal((right(`"it's"`) as { value: string }).value, "it's");
    assert.equal((right(`''`) as { value: string }).value, '');
  });
  test('numbers', () => {
    const cases: [string, number][] = [['0', 0], ['42', 42], ['-7', -7], ['3.25', 3.25], ['-0.5', -0.5], ['.5', 0.5], ['1e3', 1000], ['2.5E-2', 0.025], ['-1e+2', -100], ['007', 7]];
    for (const [text, value] of cases) assert.deepEqual(right(text), { kind: 'literal', value, start: 4, end: 4 + text.length }, text);
    assert.ok(Object.is((right('-0') as { value: number }).value, -0));
  });
  test('true, false, null', () => {
    assert.equal((right('true') as { value: boolean }).value, true);
    assert.equal((right('false') as { value: boolean }).value, false);
    assert.equal((right('null') as { value: null }).value, null);
  });
  test('@now and @request values', () => {
    assert.deepEqual(right('@now'), { kind: 'now', start: 4, end: 8 });
    assert.deepEqual(right('@request.auth.id'), { kind: 'request', source: 'auth', path: ['id'], start: 4, end: 20 });
    assert.deepEqual(right('@request.body.a.b'), { kind: 'request', source: 'body', path: ['a', 'b'], start: 4, end: 21 });
  });
  test('names that are keywords elsewhere are plain fields here', () => {
    assert.equal(shape(parseExpression('AND = OR')), 'AND = OR');
    assert.equal(shape(parseExpression('__proto__ = constructor')), '__proto__ = constructor');
  });
});

describe('operators', () => {
  for (const op of ['=', '!=', '>', '>=', '<', '<=', '~', '!~']) {
    test(op, () => {
      assert.deepEqual({ ...comparison(`a ${op} 1`), left: undefined, right: undefined }, { kind: 'compare', op, any: false, opStart: 2, left: undefined, right: undefined, start: 0, end: 4 + op.length });
      const any = comparison(`tags ?${op} 'x'`);
      assert.equal(any.op, op);
      assert.equal(any.any, true);
      assert.equal(any.opStart, 5);
    });
  }
  test('needs no spaces', () => {
    assert.equal(shape(parseExpression("a!='x'&&b?>=2||!c<-1")), '((a != "x" && b ?>= 2) || !c < -1)');
    assert.equal(shape(parseExpression('a>=.5')), 'a >= 0.5');
  });
});

describe('precedence and grouping', () => {
  const cases: [string, string][] = [
    ['a = 1 || b = 2 && c = 3', '(a = 1 || (b = 2 && c = 3))'],
    ['a = 1 && b = 2 || c = 3', '((a = 1 && b = 2) || c = 3)'],
    ['(a = 1 || b = 2) && c = 3', '((a = 1 || b = 2) && c = 3)'],
    ['!a = 1 && b = 2', '(!a = 1 && b = 2)'],
    ['!(a = 1 && b = 2)', '!(a = 1 && b = 2)'],
    ['!!a = 1', '!!a = 1'],
    ['a = 1 && b = 2 && c = 3', '((a = 1 && b = 2) && c = 3)'],
    ['a = 1 || b = 2 || c = 3', '((a = 1 || b = 2) || c = 3)'],
    ['((a = 1))', 'a = 1'],
    ['true', 'true'],
    ['!false || a = 1', '(!false || a = 1)'],
  ];
  for (const [text, expected] of cases) test(text, () => assert.equal(shape(parseExpression(text)), expected));

  test('spans cover the written text, parentheses included', () => {
    const expr = parseExpression(' (a = 1) && !b = 2 ');
    assert.equal(expr.kind, 'and');
    if (expr.kind !== 'and') return;
    assert.deepEqual([expr.start, expr.end], [1, 18]);
    assert.deepEqual([expr.left.start, expr.left.end], [1, 8]);
    assert.deepEqual([expr.right.start, expr.right.end], [12, 18]);
  });
});

describe('limits', () => {
  test(`nesting up to ${MAX_DEPTH} levels`, () => {
    assert.equal(shape(parseExpression(`${'('.repeat(MAX_DEPTH)}a = 1${')'.repeat(MAX_DEPTH)}`)), 'a = 1');
    assert.equal(shape(parseExpression(`${'!'.repeat(MAX_DEPTH)}a = 1`)), `${'!'.repeat(MAX_DEPTH)}a = 1`);
  });
  test(`text up to ${MAX_LENGTH} characters`, () => {
    assert.equal(parseExpression(`a = '${'x'.repeat(MAX_LENGTH - 6)}'`).kind, 'compare');
  });
  test('200 parts', () => {
    assert.equal(parseExpression(Array.from({ length: 50 }, () => 'a = 1').join(' && ')).kind, 'and'); // 50 × 3 + 49
  });
});

describe('errors and their positions', () => {
  const cases: [string, number, RegExp][] = [
    ['', 0, /the expression is empty/],
    ['   ', 0, /the expression is empty/],
    ['title', 5, /expected a comparison operator \(=, !=, >, ~ …\) at 5, found the end/],
    ["title 'x'", 6, /expected a comparison operator .* at 6, found a string/],
    ['a =', 3, /expected a value at 3, found the end/],
    ['a = = 1', 4, /expected a value at 4, found "="/],
    ['a = 1 b = 2', 6, /expected "&&", "\|\|" or the end at 6, found "b"/],
    ['a = 1 = 2', 6, /expected "&&", "\|\|" or the end at 6, found "="/],
    ['a = 1)', 5, /unexpected "\)" at 5: no "\(" is open/],
    ['(a = 1', 6, /expected "\)" at 6 to close "\(" at 0, found the end/],
    ['() ', 1, /expected a value at 1, found "\)"/],
    ['a = 1 &&', 8, /expected a value at 8, found the end/],
    ['&& a = 1', 0, /expected a value at 0, found "&&"/],
    ['a = 1 & b = 2', 6, /expected "&&" at 6/],
    ['a = 1 | b = 2', 6, /expected "\|\|" at 6/],
    ['a = #', 4, /unexpected character "#" at 4/],
    ['a ? 1', 2, /unexpected character "\?" at 2/],
    ['a = [1]', 4, /unexpected character "\[" at 4/],
    ['a = \u00a0 1', 4, /unexpected character/],
    ["a = 'abc", 4, /unterminated string starting at 4/],
    ['a = "abc\'', 4, /unterminated string starting at 4/],
    [String.raw`a = 'x\q'`, 6, /unknown escape at 6/],
    ["a = 'x\\", 6, /unknown escape at 6/],
    [String.raw`a = '\u12'`, 5, /malformed \\u escape at 5/],
    [String.raw`a = '\u12g4'`, 5, /malformed \\u escape at 5/],
    [String.raw`a = '\uD800'`, 4, /unpaired surrogate/],
    [String.raw`a = '\uDE00\uD83D'`, 4, /unpaired surrogate/],
    ["a = '\uD800'", 4, /unpaired surrogate/],
    ['a = \uD800', 4, /unexpected character/],
    [String.raw`a = '\u0000'`, 4, /NUL character/],
    ["a = 'x\u0000'", 4, /NUL character/],
    ['a = 1e999', 4, /the number at 4 is too large/],
    [`a = ${'9'.repeat(400)}`, 4, /too large/],
    ['a = 12abc', 4, /malformed number at 4/],
    ['a = 1e', 4, /malformed number at 4/],
    ['a = 1.5.5', 7, /expected "&&", "\|\|" or the end at 7, found ".5"/],
    ['a = -', 4, /unexpected character "-" at 4/],
    ['a. = 1', 3, /expected a field name at 3, found "="/],
    ['a.1 = 1', 1, /expected a comparison operator .* at 1, found ".1"/],
    ['a.b.c.d.e.f.g.h.i = 1', 0, /a path may have at most 8 parts \(at 0\)/],
    ['@ = 1', 0, /expected @now, @request.auth.<field> or @request.body.<field> at 0/],
    ['@ now = 1', 0, /expected @now/],
    ['@foo = 1', 0, /expected @now/],
    ['@request = 1', 0, /expected @now/],
    ['@request.auth = 1', 0, /expected @now/],
    ['@request.query.a = 1', 0, /expected @now/],
    ['@request.auth. = 1', 15, /expected a field name at 15, found "="/],
    ['a = 1 @now', 6, /expected "&&"/],
    [`${'('.repeat(MAX_DEPTH + 1)}a = 1${')'.repeat(MAX_DEPTH + 1)}`, MAX_DEPTH, /nests deeper than 32 levels \(at 32\)/],
    [`${'!'.repeat(MAX_DEPTH + 1)}a = 1`, MAX_DEPTH, /nests deeper than 32 levels/],
    [`a = '${'x'.repeat(MAX_LENGTH)}'`, MAX_LENGTH, /longer than 4096 characters/],
  ];
  for (const [text, position, message] of cases) {
    test(JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text), () => {
      assert.throws(
        () => parseExpression(text),
        (err: unknown) => {
          assert.ok(err instanceof ExprError, `an ExprError, not ${String(err)}`);
          assert.match(err.message, message);
          assert.equal(err.position, position, err.message);
          return true;
        },
      );
    });
  }

  test('more than 200 parts', () => {
    const text = Array.from({ length: 60 }, () => 'a = 1').join(' && ');
    assert.throws(() => parseExpression(text), (err: unknown) => err instanceof ExprError && /more than 200 parts/.test(err.message) && err.position >= 0 && err.position <= text.length);
  });

  test('a non-string is refused with an ExprError too', () => {
    assert.throws(() => parseExpression(42 as unknown as string), { name: 'ExprError', position: 0 });
  });
});
