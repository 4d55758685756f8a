// The scanner: turns expression text into tokens in one linear pass. It knows no grammar and no SQL;
// every error it raises is an ExprError pointing at the offending character.

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

/** Longest first, so `?!=` is never read as `?` + `!=`. */
const OPERATORS = ['?!~', '?!=', '?>=', '?<=', '?=', '?~', '?>', '?<', '!=', '!~', '>=', '<=', '=', '~', '>', '<'];
const ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r' };

const isIdentStart = (c: string | undefined) => c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_');
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r';

export function tokenize(text: string): Token[] {
  if (text.length > MAX_LENGTH) throw new ExprError(`the expression is longer than ${MAX_LENGTH} characters`, MAX_LENGTH);
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, value: string, start: number) => tokens.push({ kind, text: value, start, end: i });
  while (i < text.length) {
    const c = text[i]!;
    const start = i;
    if (isSpace(c)) {
      i++;
    } else if (isIdentStart(c)) {
      while (isIdentStart(text[i]) || isDigit(text[i])) i++;
      push('ident', text.slice(start, i), start);
    } else if (isDigit(c) || ((c === '-' || c === '.') && isDigit(text[i + 1]))) {
      i = scanNumber(text, i);
      push('number', text.slice(start, i), start);
    } else if (c === "'" || c === '"') {
      const { value, end } = scanString(text, start);
      i = end;
      push('string', value, start);
    } else if (c === '&' || c === '|') {
      if (text[i + 1] !== c) throw new ExprError(`expected "${c}${c}" at ${i}`, i);
      i += 2;
      push(c === '&' ? 'and' : 'or', c + c, start);
    } else if (c === '(' || c === ')' || c === '@' || c === '.') {
      i++;
      push(c === '(' ? 'lparen' : c === ')' ? 'rparen' : c === '@' ? 'at' : 'dot', c, start);
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

/** `-12`, `3.25`, `.5`, `1e-9`: the caller has checked that a digit comes first (after `-` or `.`). */
function scanNumber(text: string, i: number): number {
  const start = i;
  if (text[i] === '-') i++;
  while (isDigit(text[i])) i++;
  if (text[i] === '.' && isDigit(text[i + 1])) {
    i++;
    while (isDigit(text[i])) i++;
  }
  if ((text[i] === 'e' || text[i] === 'E') && (isDigit(text[i + 1]) || ((text[i + 1] === '+' || text[i + 1] === '-') && isDigit(text[i + 2])))) {
    i += 2;
    while (isDigit(text[i])) i++;
  }
  // `12abc` or `1e` is a typo, not a number followed by a field name.
  if (isIdentStart(text[i])) throw new ExprError(`malformed number at ${start}`, start);
  return i;
}

function scanString(text: string, start: number): { value: string; end: number } {
  const quote = text[start]!;
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === quote) {
      // Raw or escaped (\uD800) halves of a surrogate pair cannot be stored or sent to a database.
      if (!value.isWellFormed()) throw new ExprError(`the string starting at ${start} holds an unpaired surrogate`, start);
      // PostgreSQL text cannot hold NUL, so no stored value has one: refuse it where it is written.
      if (value.includes('\u0000')) throw new ExprError(`the string starting at ${start} holds a NUL character`, start);
      return { value, end: i + 1 };
    }
    if (c === '\\') {
      const next = text[i + 1];
      if (next === 'u') {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new ExprError(`malformed \\u escape at ${i}`, i);
        value += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else if (next !== undefined && Object.hasOwn(ESCAPES, next)) {
        value += ESCAPES[next];
        i += 2;
      } else {
        throw new ExprError(`unknown escape at ${i}`, i);
      }
      continue;
    }
    value += c;
    i++;
  }
  throw new ExprError(`unterminated string starting at ${start}`, start);
}
