// Evaluates an expression against one record in memory (realtime checks an event's record with it).
// It must agree with the SQL of filter-compiler.ts on every record: the differential tests hold it to that.
// The tracing mode (prepareTrace) runs the same comparisons and records every sub-expression's
// value with its operands resolved, for the rule tester.

import type { Comparison, Expr, Operand } from '@galley/expr';
import type { OperandTrace, RuleTrace } from '@galley/protocol';
import { isMultiValue } from '../core/collection-model.ts';
import { evaluatePlan, type Resolved } from './compare.ts';
import { planComparison, type PlanSide } from './comparison-plan.ts';
import { UNCOERCIBLE, type FieldPath, type SchemaContext } from './operands.ts';
import type { RequestContext } from './request-context.ts';

/** A record in its API shape: ISO date strings, booleans, arrays for multi-value fields, JSON for json fields. */
export type ApiRecordValues = Record<string, unknown>;

export interface EvaluationContext extends SchemaContext {
  request: RequestContext;
  /** The record of `collectionName` with that id, for relation paths; undefined when there is none. */
  lookup(collectionName: string, id: string): ApiRecordValues | undefined;
}

export type RecordPredicate = (record: ApiRecordValues) => boolean;

/**
 * Type-checks `expr` and resolves its request values once (throwing ExprError like compileFilter,
 * whatever the records), and returns a predicate to run over any number of records.
 */
export function prepareFilter(expr: Expr, ctx: EvaluationContext): RecordPredicate {
  switch (expr.kind) {
    case 'constant':
      return () => expr.value;
    case 'not': {
      const inner = prepareFilter(expr.expr, ctx);
      return (record) => !inner(record);
    }
    case 'and':
    case 'or': {
      const left = prepareFilter(expr.left, ctx);
      const right = prepareFilter(expr.right, ctx);
      return expr.kind === 'and' ? (record) => left(record) && right(record) : (record) => left(record) || right(record);
    }
    case 'compare':
      return prepareComparison(expr, ctx);
  }
}

/** Whether `record` satisfies `expr`. Throws ExprError for the same type errors compileFilter reports. */
export function evaluateFilter(expr: Expr, record: ApiRecordValues, ctx: EvaluationContext): boolean {
  return prepareFilter(expr, ctx)(record);
}

/** A comparison's plan and how its sides resolve for a record: shared by both modes. */
function comparisonParts(cmp: Comparison, ctx: EvaluationContext) {
  const plan = planComparison(cmp, ctx, ctx.request);
  const resolve = (side: PlanSide, record: ApiRecordValues): Resolved => {
    if (side.t === 'value') return { set: false, value: side.value };
    if (side.t === 'list') return { set: true, values: side.values };
    const values = fieldValues(side.path, record, ctx);
    return side.path.multi ? { set: true, values } : { set: false, value: values[0] ?? null };
  };
  return { plan, resolve };
}

function prepareComparison(cmp: Comparison, ctx: EvaluationContext): RecordPredicate {
  const { plan, resolve } = comparisonParts(cmp, ctx);
  return (record) => evaluatePlan(plan, resolve(plan.left, record), resolve(plan.right, record));
}

/** One operand of a traced comparison: its text and what it resolved to. */
/** The evaluation tree of an expression (@galley/protocol's RuleTrace): both sides of && and || are evaluated. */
export type Trace = RuleTrace;
export type { OperandTrace };

export type RecordTracer = (record: ApiRecordValues) => Trace;

function operandTrace(operand: Operand, resolved: Resolved, source: string): OperandTrace {
  const values = resolved.set ? resolved.values : [resolved.value];
  return {
    text: source.slice(operand.start, operand.end),
    source: operand.kind,
    value: resolved.set ? resolved.values : (resolved.value === UNCOERCIBLE ? null : resolved.value ?? null),
    comparable: !values.includes(UNCOERCIBLE),
  };
}

/**
 * The tracing mode of prepareFilter: the same plans and comparisons (so the same answers and the
 * same ExprErrors), returning the evaluation tree instead of a boolean. `source` is the text `expr`
 * was parsed from.
 */
export function prepareTrace(expr: Expr, ctx: EvaluationContext, source: string): RecordTracer {
  const base = (value: boolean) => ({ text: source.slice(expr.start, expr.end), start: expr.start, end: expr.end, value });
  switch (expr.kind) {
    case 'constant':
      return () => ({ kind: 'constant', ...base(expr.value) });
    case 'not': {
      const inner = prepareTrace(expr.expr, ctx, source);
      return (record) => {
        const traced = inner(record);
        return { kind: 'not', ...base(!traced.value), expr: traced };
      };
    }
    case 'and':
    case 'or': {
      const left = prepareTrace(expr.left, ctx, source);
      const right = prepareTrace(expr.right, ctx, source);
      return (record) => {
        const l = left(record);
        const r = right(record);
        return { kind: expr.kind, ...base(expr.kind === 'and' ? l.value && r.value : l.value || r.value), left: l, right: r };
      };
    }
    case 'compare': {
      const { plan, resolve } = comparisonParts(expr, ctx);
      const op = `${expr.any ? '?' : ''}${expr.op}`;
      return (record) => {
        const l = resolve(plan.left, record);
        const r = resolve(plan.right, record);
        return { kind: 'compare', ...base(evaluatePlan(plan, l, r)), op, left: operandTrace(expr.left, l, source), right: operandTrace(expr.right, r, source) };
      };
    }
  }
}

/** The non-null values a path reaches from `record`: at most one unless the path is multi-valued. */
function fieldValues(path: FieldPath, record: ApiRecordValues, ctx: EvaluationContext): unknown[] {
  let rows: ApiRecordValues[] = [record];
  for (const { field, target } of path.hops) {
    // As in SQL, a relation id without a record behind it leads nowhere.
    rows = rows.flatMap((row) => idsOf(row[field.name]).flatMap((id): ApiRecordValues[] => {
      const found = ctx.lookup(target.name, id);
      return found ? [found] : [];
    }));
  }
  const values = rows.flatMap((row) => {
    const value = row[path.field.name];
    if (isMultiValue(path.field)) return Array.isArray(value) ? value : [];
    return [path.field.type === 'json' ? jsonAt(value, path.jsonKeys) : value];
  });
  return values.filter((v) => v !== null && v !== undefined);
}

const idsOf = (value: unknown): string[] => (Array.isArray(value) ? value : [value]).filter((id): id is string => typeof id === 'string');

/** `meta.a.b`: own keys of plain objects only (arrays are not indexed by name), like json_extract and `#>`. */
function jsonAt(value: unknown, keys: string[]): unknown {
  for (const key of keys) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, key)) return null;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
