// The meaning of a comparison on values in JavaScript: what the in-memory evaluator runs, what
// constant folding runs, and the reference the SQL in filter-compiler.ts is written to match.

import type { CompareOp } from '@galley/expr';
import { isNullValue, isSet, NEGATIVE_OPS, positiveOf, type ComparisonPlan } from './comparison-plan.ts';
import { casefold, compareText, UNCOERCIBLE, type ValueKind } from './operands.ts';

/** One side's value(s) at evaluation time: a single value, or the non-null values of a set. */
export type Resolved = { set: false; value: unknown } | { set: true; values: unknown[] };

const isNull = (v: unknown) => v === null || v === undefined;

function order(a: unknown, b: unknown, kind: ValueKind | undefined): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return kind === undefined || kind === 'number' ? a - b : undefined;
  if (typeof a !== 'string' || typeof b !== 'string') return undefined;
  if (kind === 'date') return Date.parse(a) - Date.parse(b);
  return kind === undefined || kind === 'text' ? compareText(a, b) : undefined;
}

function equal(a: unknown, b: unknown, kind: ValueKind | undefined): boolean {
  if (isNull(a) || isNull(b)) return isNull(a) && isNull(b);
  if (kind === 'date' && typeof a === 'string' && typeof b === 'string') return Date.parse(a) === Date.parse(b);
  // Objects and arrays (inside json fields) never equal a scalar; `===` says so.
  return a === b;
}

/** `a op b` for two single values of `kind` (one side may be UNCOERCIBLE: then only `!=`/`!~` hold). */
export function compareScalar(op: CompareOp, a: unknown, b: unknown, kind: ValueKind | undefined): boolean {
  if (a === UNCOERCIBLE || b === UNCOERCIBLE) return NEGATIVE_OPS.has(op);
  switch (op) {
    case '=':
      return equal(a, b, kind);
    case '!=':
      return !equal(a, b, kind);
    case '~':
      return typeof a === 'string' && typeof b === 'string' && casefold(a).includes(casefold(b));
    case '!~':
      return !compareScalar('~', a, b, kind);
    default: {
      const d = order(a, b, kind);
      if (d === undefined || Number.isNaN(d)) return false;
      return op === '>' ? d > 0 : op === '>=' ? d >= 0 : op === '<' ? d < 0 : d <= 0;
    }
  }
}

const elements = (r: Resolved): unknown[] => (r.set ? r.values : [r.value]);

/**
 * A whole comparison. Single values compare directly. With a set on either side: plain `!=`/`!~`
 * mean "no element is equal / contains"; `= null` means "has no values" and `!= null` "has some";
 * everything else holds when any pair of elements satisfies the operator.
 */
export function evaluatePlan(plan: ComparisonPlan, left: Resolved, right: Resolved, op = plan.op, any = plan.any): boolean {
  if (!isSet(plan.left) && !isSet(plan.right)) return compareScalar(op, elements(left)[0], elements(right)[0], plan.kind);
  if (!any && NEGATIVE_OPS.has(op)) return !evaluatePlan(plan, left, right, positiveOf(op), true);
  if ((op === '=' || op === '!=') && (isNullValue(plan.left) || isNullValue(plan.right))) {
    const empty = elements(isNullValue(plan.left) ? right : left).length === 0;
    return op === '=' ? empty : !empty;
  }
  return elements(left).some((a) => elements(right).some((b) => compareScalar(op, a, b, plan.kind)));
}
