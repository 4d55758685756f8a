// The meaning of each comparison on plain values — the reference the SQL compiler mirrors, used by
// the in-memory evaluator and for comparisons that need no database (constant folding).
//
// Semantics (identical in SQLite, PostgreSQL and memory):
// - `=` / `!=` are null-safe: `x = null` holds when x is null; text equality is case-sensitive.
// - `<`, `<=`, `>`, `>=` are false when either side is null; text orders by code point, dates by time.
// - `~` is "contains, ignoring case" (Unicode lower-casing); false when either side is null; `!~` is its negation.
// - A multi-value operand (multi select/relation/file, or a path through a multiple relation):
//   `?op` holds when any element satisfies `op`; plain `=`, `~`, `<` … behave like their `?` form, and
//   plain `!=` / `!~` mean "no element is equal / contains" (the negation of `?=` / `?~`).
//   `= null` on a multi-value operand means "has no values", `!= null` "has at least one".
// - Request values that cannot become the field's kind never match (`!=` and `!~` then hold).

import type { CompareOp } from '@galley/expr';
import { compareText, UNCOERCIBLE, type ValueKind } from './operands.ts';

export const NEGATIVE_OPS: ReadonlySet<CompareOp> = new Set(['!=', '!~']);
export const positiveOf = (op: CompareOp): CompareOp => (op === '!=' ? '=' : op === '!~' ? '~' : op);

function order(a: unknown, b: unknown, kind: ValueKind | undefined): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return kind === 'date' ? Date.parse(a) - Date.parse(b) : compareText(a, b);
  return undefined;
}

/** `a op b` for two scalar values (already coerced to `kind` when one side is a field). */
export function compareScalar(op: CompareOp, a: unknown, b: unknown, kind?: ValueKind): boolean {
  if (a === UNCOERCIBLE || b === UNCOERCIBLE) return NEGATIVE_OPS.has(op);
  const isNull = (v: unknown) => v === null || v === undefined;
  switch (op) {
    case '=':
      return isNull(a) || isNull(b) ? isNull(a) && isNull(b) : a === b;
    case '!=':
      return !compareScalar('=', a, b, kind);
    case '~':
      return typeof a === 'string' && typeof b === 'string' && a.toLowerCase().includes(b.toLowerCase());
    case '!~':
      return !compareScalar('~', a, b, kind);
    default: {
      if (isNull(a) || isNull(b)) return false;
      const d = order(a, b, kind);
      if (d === undefined) return false;
      return op === '>' ? d > 0 : op === '>=' ? d >= 0 : op === '<' ? d < 0 : d <= 0;
    }
  }
}
