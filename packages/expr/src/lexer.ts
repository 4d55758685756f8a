// The scanner: turns expression text into tokens in one linear pass. It knows no grammar and no SQL.

import { ExprError } from './errors.ts';

export type TokenKind = 'ident' | 'string' | 'number' | 'op' | 'and' | 'or' | 'not' | 'lparen' | 'rparen' | 'at' | 'dot' | 'eof';

export interface Token {
  kind: TokenKind;
  /** The identifier, the decoded string, the operator, or the number's text. */
  text: string;
  start: number;
  end: number;
}

export const MAX_LENGTH = 4096;
const OPERATORS = ['?!~', '?!=', '?>=', '?<=', '?=', '?~', '?>', '?<', '!=', '!~', '>=', '<=', '=', '~', '>', '<'];
const ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r' };

const isIdentStart = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
const isDigit = (c: string) => c >= '0' && c <= '9';

export function tokenize(text: string): Token[] {
  if (text.length > MAX_LENGTH) throw new ExprError(`the expression is longer than ${MAX_LENGTH} characters`, MAX_LENGTH);
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, value: string, start: number) => tokens.push({ kind, text: value, start, end: i });
  while (i < text.length) {
    const c = text[i]!;
    const start = i;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (isIdentStart(c)) {
      while (i < text.length && (isIdentStart(text[i]!) || isDigit(text[i]!))) i++;
      push('ident', text.slice(start, i), start);
    } else if (isDigit(c) || (c === '-' && isDigit(text[i + 1] ?? '')) || (c === '.' && isDigit(text[i + 1] ?? ''))) {
      i = scanNumber(text, i);
      push('number', text.slice(start, i), start);
    } else if (c === "'" || c === '"') {
      push('string', scanString(text, start, (end) => (i = end)), start);
    } else if (c === '&' || c === '|') {
      if (text[i + 1] !== c) throw new ExprError(`expected "${c}${c}" at ${i}`, i);
      i += 2;
      push(c === '&' ? 'and' : 'or', c + c, start);
    } else if (c === '(' || c === ')') {
      i++;
      push(c === '(' ? 'lparen' : 'rparen', c, start);
    } else if (c === '@') {
      i++;
      push('at', c, start);
    } else if (c === '.') {
      i++;
      push('dot', c, start);
    } else {
      const op = OPERATORS.find((o) => text.startsWith(o, i));
      if (op) {
        i += op.length;
        push('op', op, start);
      } else if (c === '!') {
        i++;
        push('not', c, start);
      } else {
        throw new ExprError(`unexpected character ${JSON.stringify(c)} at ${i}`, i);
      }
    }
  }
  tokens.push({ kind: 'eof', text: '', start: text.length, end: text.length });
  return tokens;
}

function scanNumber(text: string, i: number): number {
  const start = i;
  if (text[i] === '-') i++;
  while (isDigit(text[i] ?? '')) i++;
  if (text[i] === '.' && isDigit(text[i + 1] ?? '')) {
    i++;
    while (isDigit(text[i] ?? '')) i++;
  }
  if ((text[i] === 'e' || text[i] === 'E') && (isDigit(text[i + 1] ?? '') || ((text[i + 1] === '+' || text[i + 1] === '-') && isDigit(text[i + 2] ?? '')))) {
    i += 2;
    while (isDigit(text[i] ?? '')) i++;
  }
  if (isIdentStart(text[i] ?? '')) throw new ExprError(`malformed number at ${start}`, start);
  return i;
}

function scanString(text: string, start: number, setEnd: (end: number) => void): string {
  const quote = text[start]!;
  let out = '';
  let i = start + 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === quote) {
      // Half a surrogate pair or a NUL cannot be stored or compared by every database: refuse both.
      if (!out.isWellFormed() || out.includes('\u0000')) throw new ExprError(`the string starting at ${start} holds an unpaired surrogate or a NUL character`, start);
      setEnd(i + 1);
      return out;
    }
    if (c === '\\') {
      const next = text[i + 1];
      if (next === 'u') {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new ExprError(`malformed \\u escape at ${i}`, i);
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
        continue;
      }
      if (next === undefined || !(next in ESCAPES)) throw new ExprError(`unknown escape at ${i}`, i);
      out += ESCAPES[next];
      i += 2;
      continue;
    }
    out += c;
    i++;
  }
  throw new ExprError(`unterminated string starting at ${start}`, start);
}
