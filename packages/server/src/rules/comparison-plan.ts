// Type-checks one comparison against the schema and turns its request values and literals into
// values of the compared kind. The SQL compiler and the in-memory evaluator both start from this plan.

import { ExprError, type CompareOp, type Comparison, type FieldRef, type Operand } from '@galley/expr';
import { coerce, requestValue, resolveFieldPath, type Coerced, type FieldPath, type Scalar, type SchemaContext, type ValueKind } from './operands.ts';
import type { RequestContext } from './request-context.ts';

/** A request list (e.g. `@request.body.tags`) is compared element by element, up to this many. */
export const MAX_REQUEST_LIST = 100;

export type PlanSide =
  | { t: 'field'; path: FieldPath; at: number }
  /** A literal, request value or @now, already coerced to the plan's kind. */
  | { t: 'value'; value: Coerced; at: number }
  /** A request value holding a list: its non-null elements that could be coerced. Behaves like a multi-value field. */
  | { t: 'list'; values: Scalar[]; at: number };

export interface ComparisonPlan {
  op: CompareOp;
  any: boolean;
  /** What both sides compare as; undefined only when neither side is a field nor @now. */
  kind: ValueKind | undefined;
  left: PlanSide;
  right: PlanSide;
}

export const NEGATIVE_OPS: ReadonlySet<CompareOp> = new Set(['!=', '!~']);
export const positiveOf = (op: CompareOp): CompareOp => (op === '!=' ? '=' : op === '!~' ? '~' : op);
export const isOrdering = (op: CompareOp) => op === '<' || op === '<=' || op === '>' || op === '>=';

/** True when the side holds several values: a multi-value field path or a request list. */
export const isSet = (side: PlanSide) => side.t === 'list' || (side.t === 'field' && side.path.multi);
/** A null written (or received) as a value, which `=`/`!=` read as "has no values" against a set. */
export const isNullValue = (side: PlanSide) => side.t === 'value' && side.value === null;

const KIND_NAMES: Record<ValueKind, string> = { text: 'text', number: 'a number', boolean: 'a boolean', date: 'a date', json: 'json' };

export function planComparison(cmp: Comparison, schema: SchemaContext, request: RequestContext): ComparisonPlan {
  const fields: ResolvedField[] = [cmp.left, cmp.right].flatMap((o) => (o.kind === 'field' ? [{ operand: o, path: resolveFieldPath(o, schema) }] : []));
  const kind = comparedKind(cmp, fields);
  if (kind) checkOperator(cmp, kind);
  const side = (operand: Operand): PlanSide => {
    if (operand.kind === 'field') return { t: 'field', path: fields.find((f) => f.operand === operand)!.path, at: operand.start };
    if (operand.kind === 'literal') return { t: 'value', value: coerce(operand.value, kind, { at: operand.start }), at: operand.start };
    const value = requestValue(operand, request);
    if (!Array.isArray(value)) return { t: 'value', value: coerce(value, kind, false), at: operand.start };
    if (value.length > MAX_REQUEST_LIST) {
      throw new ExprError(`the request value at ${operand.start} holds more than ${MAX_REQUEST_LIST} values`, operand.start);
    }
    const values = value.map((v) => coerce(v, kind, false)).filter((v): v is Scalar => v !== null && typeof v !== 'symbol');
    return { t: 'list', values, at: operand.start };
  };
  return { op: cmp.op, any: cmp.any, kind, left: side(cmp.left), right: side(cmp.right) };
}

/** The kind both sides compare as: the field's (they must agree), else a date for @now, else none. */
interface ResolvedField {
  operand: FieldRef;
  path: FieldPath;
}

function comparedKind(cmp: Comparison, fields: ResolvedField[]): ValueKind | undefined {
  const [a, b] = fields;
  if (a && b) {
    if (a.path.kind !== b.path.kind) {
      throw new ExprError(`cannot compare ${KIND_NAMES[a.path.kind]} field with ${KIND_NAMES[b.path.kind]} field (at ${cmp.opStart})`, cmp.opStart);
    }
    if (a.path.kind === 'json') throw new ExprError(`two json fields cannot be compared (at ${cmp.opStart})`, cmp.opStart);
  }
  const now = cmp.left.kind === 'now' ? cmp.left : cmp.right.kind === 'now' ? cmp.right : undefined;
  if (a && now && a.path.kind !== 'date') {
    throw new ExprError(`@now is a date, but "${a.operand.path.join('.')}" is ${KIND_NAMES[a.path.kind]} (at ${now.start})`, now.start);
  }
  return a ? a.path.kind : now ? 'date' : undefined;
}

function checkOperator(cmp: Comparison, kind: ValueKind): void {
  const op = cmp.op;
  const at = cmp.opStart;
  if (isOrdering(op) && (kind === 'boolean' || kind === 'json')) throw new ExprError(`${KIND_NAMES[kind]} values cannot be ordered with ${op} (at ${at})`, at);
  if ((op === '~' || op === '!~') && kind !== 'text' && kind !== 'json') throw new ExprError(`${op} needs text, not ${KIND_NAMES[kind]} (at ${at})`, at);
}
