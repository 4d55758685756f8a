// A recursive-descent parser from tokens to the AST. Precedence, loosest first: `||`, `&&`, `!`,
// comparison. Nesting and size are bounded so hostile input cannot exhaust the stack or the CPU.

import type { CompareOp, Expr, Operand } from './ast.ts';
import { ExprError } from './errors.ts';
import { tokenize, type Token } from './lexer.ts';

export const MAX_DEPTH = 32;
export const MAX_NODES = 200;
/** Parts of one path (`a.b.c` has 3); relation hops are limited further by the server. */
export const MAX_PATH = 8;

const describe = (t: Token) => (t.kind === 'eof' ? 'the end' : t.kind === 'string' ? 'a string' : `"${t.text}"`);

class Parser {
  private pos = 0;
  private depth = 0;
  private nodes = 0;

  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  /** Never moves past the final `eof` token, so callers may always look at what they got. */
  private next(): Token {
    const t = this.tokens[this.pos]!;
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  private count(at: number): void {
    if (++this.nodes > MAX_NODES) throw new ExprError(`the expression has more than ${MAX_NODES} parts (at ${at})`, at);
  }

  parse(): Expr {
    const expr = this.or();
    const t = this.peek();
    if (t.kind === 'rparen') throw new ExprError(`unexpected ")" at ${t.start}: no "(" is open`, t.start);
    if (t.kind !== 'eof') throw new ExprError(`expected "&&", "||" or the end at ${t.start}, found ${describe(t)}`, t.start);
    return expr;
  }

  private or(): Expr {
    let left = this.and();
    while (this.peek().kind === 'or') {
      this.next();
      const right = this.and();
      this.count(left.start);
      left = { kind: 'or', left, right, start: left.start, end: right.end };
    }
    return left;
  }

  private and(): Expr {
    let left = this.unary();
    while (this.peek().kind === 'and') {
      this.next();
      const right = this.unary();
      this.count(left.start);
      left = { kind: 'and', left, right, start: left.start, end: right.end };
    }
    return left;
  }

  private nested<T>(at: number, fn: () => T): T {
    if (++this.depth > MAX_DEPTH) throw new ExprError(`the expression nests deeper than ${MAX_DEPTH} levels (at ${at})`, at);
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }

  private unary(): Expr {
    const t = this.peek();
    if (t.kind === 'not') {
      this.next();
      const expr = this.nested(t.start, () => this.unary());
      this.count(t.start);
      return { kind: 'not', expr, start: t.start, end: expr.end };
    }
    if (t.kind === 'lparen') {
      this.next();
      const expr = this.nested(t.start, () => this.or());
      const close = this.next();
      if (close.kind !== 'rparen') throw new ExprError(`expected ")" at ${close.start} to close "(" at ${t.start}, found ${describe(close)}`, close.start);
      return { ...expr, start: t.start, end: close.end };
    }
    return this.comparison();
  }

  private comparison(): Expr {
    const left = this.operand();
    const opToken = this.peek();
    if (opToken.kind !== 'op') {
      // `true` and `false` stand alone (a rule of `true` lets everyone in); other values need an operator.
      if (left.kind === 'literal' && typeof left.value === 'boolean') return { kind: 'constant', value: left.value, start: left.start, end: left.end };
      throw new ExprError(`expected a comparison operator (=, !=, >, ~ …) at ${opToken.start}, found ${describe(opToken)}`, opToken.start);
    }
    this.next();
    const right = this.operand();
    this.count(left.start);
    const any = opToken.text.startsWith('?');
    const op = (any ? opToken.text.slice(1) : opToken.text) as CompareOp;
    return { kind: 'compare', op, any, opStart: opToken.start, left, right, start: left.start, end: right.end };
  }

  /** The dotted names after `first`: `author.name` → ["author", "name"]. */
  private path(first: Token): string[] {
    const path = [first.text];
    while (this.peek().kind === 'dot') {
      this.next();
      const t = this.next();
      if (t.kind !== 'ident') throw new ExprError(`expected a field name at ${t.start}, found ${describe(t)}`, t.start);
      path.push(t.text);
      if (path.length > MAX_PATH) throw new ExprError(`a path may have at most ${MAX_PATH} parts (at ${first.start})`, first.start);
    }
    return path;
  }

  private operand(): Operand {
    const t = this.next();
    this.count(t.start);
    const end = () => this.tokens[this.pos - 1]!.end;
    switch (t.kind) {
      case 'string':
        return { kind: 'literal', value: t.text, start: t.start, end: t.end };
      case 'number': {
        const value = Number(t.text);
        if (!Number.isFinite(value)) throw new ExprError(`the number at ${t.start} is too large`, t.start);
        return { kind: 'literal', value, start: t.start, end: t.end };
      }
      case 'ident': {
        if (t.text === 'true' || t.text === 'false') return { kind: 'literal', value: t.text === 'true', start: t.start, end: t.end };
        if (t.text === 'null') return { kind: 'literal', value: null, start: t.start, end: t.end };
        const path = this.path(t);
        return { kind: 'field', path, start: t.start, end: end() };
      }
      case 'at':
        return this.requestOperand(t);
      default:
        throw new ExprError(`expected a value at ${t.start}, found ${describe(t)}`, t.start);
    }
  }

  /** `@now`, `@request.auth.<path>`, `@request.body.<path>`. */
  private requestOperand(at: Token): Operand {
    const name = this.next();
    const expected = `expected @now, @request.auth.<field> or @request.body.<field> at ${at.start}`;
    if (name.kind !== 'ident' || name.start !== at.end) throw new ExprError(expected, at.start);
    if (name.text === 'now') return { kind: 'now', start: at.start, end: name.end };
    if (name.text !== 'request') throw new ExprError(expected, at.start);
    const [source, ...path] = this.path(name).slice(1);
    if ((source !== 'auth' && source !== 'body') || path.length === 0) throw new ExprError(expected, at.start);
    return { kind: 'request', source, path, start: at.start, end: this.tokens[this.pos - 1]!.end };
  }
}

/** Parses a filter or rule. Throws ExprError (with a position) for anything that is not one. */
export function parseExpression(text: string): Expr {
  if (typeof text !== 'string') throw new ExprError('the expression must be text', 0);
  if (text.trim() === '') throw new ExprError('the expression is empty', 0);
  return new Parser(tokenize(text)).parse();
}
