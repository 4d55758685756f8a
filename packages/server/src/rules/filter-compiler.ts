// Compiles an expression AST to a parameterised SQL condition for SQLite or PostgreSQL. Values only
// ever travel as parameters: the SQL text holds identifiers, keywords, operators and placeholders.
//
// The semantics — identical in SQLite, PostgreSQL and memory (evaluator.ts); the differential tests
// run random filters three ways over the same records to hold them to it:
//
// - Logic is two-valued. Every comparison yields TRUE or FALSE, never NULL, so `!`, `&&` and `||`
//   mean what they say, and the fragment may itself be negated or combined by callers.
// - Types. A comparison takes its kind from its field(s): text (also select, relation, file, email,
//   url), number, boolean, date or json; two fields must have the same kind, and `@now` is a date.
//   A literal of another kind is a type error (ExprError at the literal): `price = 'abc'`,
//   `published_at > 'soon'`, `title = 5`. Ordering (`<` …) booleans or json, and `~` on numbers,
//   booleans or dates, are type errors at the operator. A select value outside `values` is not an
//   error, it just matches nothing.
// - Request values (`@request.auth.*`: '' when anonymous, or when the field is missing or null;
//   `@request.body.*`: null when missing; `@now`) are known when compiling: they are coerced to the
//   field's kind (number field vs "10" → 10, text field vs 10 → "10", boolean vs "true", date vs any
//   date text) and bound as parameters. A value that cannot be coerced (e.g. "abc" for a number, an
//   object, text holding NUL) makes that comparison false, and `!=`/`!~` true.
// - No field on either side: folded in JavaScript to TRUE or FALSE (values compared as they are,
//   as dates when one side is @now).
// - `=`, `!=`: null-safe (`x = null` holds when x is null); text equality is case-sensitive; dates
//   compare as instants (date literals are normalised to ISO `2024-05-01T10:00:00.000Z`, UTC when no
//   offset is written).
// - `<`, `<=`, `>`, `>=`: false when either side is null. Text orders by code point (COLLATE "C" on
//   PostgreSQL, SQLite's BINARY), dates by time, numbers numerically.
// - `~`: contains, ignoring case; false when either side is null; `!~` is its exact negation.
//   `%` and `_` are plain characters. Case folding is JavaScript's toLowerCase (SQLite: the adapter's
//   galley_casefold), PostgreSQL's lower(): they agree except for a few letters whose lower case
//   depends on context (final Σ) or locale (İ).
// - Sets: a multi-value field (multiple select, relation or file), any path through a multiple
//   relation, and a request value holding a list (compared element by element, at most 100) are sets
//   of their non-null values. Against a set, plain `!=` and `!~` mean "no element is equal / contains"
//   (the negation of `=` / `~`); `= null` means "has no values", `!= null` "has some"; every other
//   operator, and every `?` operator, holds when some pair of elements satisfies it (`tags ?!= 'a'`:
//   some tag is not 'a'). On single values, `?op` is `op`.
// - Relation paths (`author.name`, at most 3 hops) read the target record by id; a null relation or
//   a missing target reads as null (single relations) or contributes nothing (sets).
// - json fields: `meta` and `meta.key.sub` (own object keys; arrays are not indexed) compare with
//   strings, numbers, booleans and null by JSON type and value: `meta.n = 5` holds for the number 5,
//   not for "5"; a missing key or JSON null is null; `~` matches string values only.

import type { CompareOp, Comparison, Expr } from '@galley/expr';
import type { CollectionDef } from '../core/collection-model.ts';
import type { Dialect, SqlParams } from '../db/database.ts';
import { evaluatePlan, type Resolved } from './compare.ts';
import { isNullValue, isOrdering, isSet, NEGATIVE_OPS, planComparison, positiveOf, type ComparisonPlan, type PlanSide } from './comparison-plan.ts';
import { FieldSql, type SqlSet, type SqlTerm } from './field-sql.ts';
import { UNCOERCIBLE, type Coerced, type ValueKind } from './operands.ts';
import type { RequestContext } from './request-context.ts';

export interface CompileContext {
  collection: CollectionDef;
  resolveCollection(name: string): CollectionDef | undefined;
  dialect: Dialect;
  params: SqlParams;
  /** SQL alias of the root table, e.g. "r". */
  alias: string;
  request: RequestContext;
}

const TRUE = 'TRUE';
const FALSE = 'FALSE';

type SqlSide = { t: 'scalar'; term: SqlTerm } | { t: 'set'; set: SqlSet } | { t: 'list'; terms: SqlTerm[] };

const valueTerm = (value: Coerced): SqlTerm => (value === null ? { t: 'null' } : value === UNCOERCIBLE ? { t: 'never' } : { t: 'param', value });
const isField = (term: SqlTerm) => term.t === 'column' || term.t === 'subquery' || term.t === 'json';

class FilterCompiler {
  private readonly sql: FieldSql;

  constructor(private readonly ctx: CompileContext) {
    this.sql = new FieldSql(ctx.dialect, ctx.params, ctx.alias);
  }

  private get pg(): boolean {
    return this.ctx.dialect === 'postgres';
  }

  compile(expr: Expr): string {
    switch (expr.kind) {
      case 'constant':
        return expr.value ? TRUE : FALSE;
      case 'not':
        return `NOT (${this.compile(expr.expr)})`;
      case 'and':
        return `(${this.compile(expr.left)} AND ${this.compile(expr.right)})`;
      case 'or':
        return `(${this.compile(expr.left)} OR ${this.compile(expr.right)})`;
      case 'compare':
        return this.comparison(expr);
    }
  }

  private comparison(cmp: Comparison): string {
    const plan = planComparison(cmp, this.ctx, this.ctx.request);
    if (plan.left.t !== 'field' && plan.right.t !== 'field') {
      const known = (side: PlanSide): Resolved => (side.t === 'list' ? { set: true, values: side.values } : { set: false, value: side.t === 'value' ? side.value : null });
      return evaluatePlan(plan, known(plan.left), known(plan.right)) ? TRUE : FALSE;
    }
    if (!isSet(plan.left) && !isSet(plan.right)) return this.pair(plan.op, this.scalar(plan.left), this.scalar(plan.right), plan.kind);
    // Against a set, plain `!=` / `!~` deny that any element is equal / contains.
    if (!plan.any && NEGATIVE_OPS.has(plan.op)) return `NOT (${this.anyPair(plan, positiveOf(plan.op))})`;
    return this.anyPair(plan, plan.op);
  }

  private side(side: PlanSide): SqlSide {
    if (side.t === 'value') return { t: 'scalar', term: valueTerm(side.value) };
    if (side.t === 'list') return { t: 'list', terms: side.values.map(valueTerm) };
    return this.sql.path(side.path);
  }

  private scalar(side: PlanSide): SqlTerm {
    const sql = this.side(side);
    if (sql.t !== 'scalar') throw new Error('expected a single value');
    return sql.term;
  }

  /** Some pair of elements satisfies `op` (or, for `= null` / `!= null`, the set is empty / not). */
  private anyPair(plan: ComparisonPlan, op: CompareOp): string {
    const left = this.side(plan.left);
    const right = this.side(plan.right);
    const sets = [left, right].flatMap((s) => (s.t === 'set' ? [s.set] : []));
    if ((op === '=' || op === '!=') && (isNullValue(plan.left) || isNullValue(plan.right))) {
      // The other side is a field set: a list against null has no field and was folded.
      const exists = this.exists(sets, []);
      return op === '=' ? `NOT ${exists}` : exists;
    }
    const list = [left, right].find((s) => s.t === 'list');
    if (list?.t === 'list' && list.terms.length === 0) return FALSE;
    const termOf = (s: SqlSide, element: SqlTerm | undefined): SqlTerm => (s.t === 'scalar' ? s.term : s.t === 'set' ? s.set.element : element!);
    const pairs = () => {
      if (list?.t !== 'list') return this.pair(op, termOf(left, undefined), termOf(right, undefined), plan.kind);
      return `(${list.terms.map((item) => this.pair(op, termOf(left, item), termOf(right, item), plan.kind)).join(' OR ')})`;
    };
    return sets.length ? this.exists(sets, [pairs]) : pairs();
  }

  /** `EXISTS` over the sets' rows with non-null elements; conditions render after the element tests, as they read. */
  private exists(sets: SqlSet[], conditions: (() => string)[]): string {
    const from = sets.flatMap((s) => s.from).join(', ');
    const where = [
      ...sets.flatMap((s) => s.where),
      ...sets.map((s) => (s.element.t === 'json' ? `${this.sql.jsonValue(s.element)} IS NOT NULL` : `${s.element.sql} IS NOT NULL`)),
      ...conditions.map((c) => c()),
    ];
    return `EXISTS (SELECT * FROM ${from} WHERE ${where.join(' AND ')})`;
  }

  /** `a op b` for two single terms, at least one of them a field; never NULL. */
  private pair(op: CompareOp, a: SqlTerm, b: SqlTerm, kind: ValueKind | undefined): string {
    if (a.t === 'never' || b.t === 'never') return NEGATIVE_OPS.has(op) ? TRUE : FALSE;
    if (op === '!=' || op === '!~') return `NOT (${this.pair(positiveOf(op), a, b, kind)})`;
    if (a.t === 'json' || b.t === 'json') return this.jsonPair(op, a, b);
    if (a.t === 'null' || b.t === 'null') return op === '=' ? `${this.sql.render(a.t === 'null' ? b : a)} IS NULL` : FALSE;
    if (op === '=') {
      if (isField(a) && isField(b)) return this.sql.nullSafeEqual(this.sql.render(a), this.sql.render(b));
      return this.guarded(`${this.sql.render(a)} = ${this.sql.render(b)}`, a, b);
    }
    if (op === '~') return this.guarded(this.sql.contains(this.sql.casefold(this.sql.render(a)), this.sql.casefold(this.sql.render(b))), a, b);
    if (!isOrdering(op)) throw new Error(`unexpected operator ${op}`);
    // Code point order whatever the database's collation; SQLite's BINARY already is that.
    const collate = this.pg && kind === 'text' ? ' COLLATE "C"' : '';
    const [ca, cb] = isField(a) ? [collate, ''] : ['', collate];
    return this.guarded(`${this.sql.render(a)}${ca} ${op} ${this.sql.render(b)}${cb}`, a, b);
  }

  /**
   * Makes a comparison two-valued: plain columns get `IS NOT NULL` guards (which keep indexes
   * usable); a subquery would run twice that way, so its comparison is COALESCEd instead.
   */
  private guarded(condition: string, ...terms: SqlTerm[]): string {
    if (terms.some((t) => t.t === 'subquery')) return `COALESCE(${condition}, FALSE)`;
    const guards = terms.flatMap((t) => (t.t === 'column' && t.nullable ? [`${t.sql} IS NOT NULL`] : []));
    return `(${[condition, ...guards].join(' AND ')})`;
  }

  private jsonPair(op: CompareOp, a: SqlTerm, b: SqlTerm): string {
    const jsonOnLeft = a.t === 'json';
    const json = jsonOnLeft ? a : b;
    const other = jsonOnLeft ? b : a;
    if (json.t !== 'json' || isField(other)) throw new Error('json compares with values only');
    if (other.t === 'null') return op === '=' ? `${json.wrap(this.sql.jsonValue(json))} IS NULL` : FALSE;
    if (other.t !== 'param') throw new Error('unexpected json operand');
    if (op === '=') return `COALESCE(${json.wrap(this.sql.jsonEquals(json, other.value))}, FALSE)`;
    if (op !== '~' || typeof other.value !== 'string') return FALSE;
    const value = other.value;
    // Rendered strictly in reading order: SQLite's `?` placeholders are positional.
    const condition = () => {
      const isString = this.sql.jsonIsString(json);
      const text = () => this.sql.casefold(this.sql.jsonValue(json));
      const needle = () => this.sql.casefold(this.sql.render({ t: 'param', value }));
      return `${isString} AND ${jsonOnLeft ? this.sql.contains(text(), needle()) : this.sql.contains(needle(), text())}`;
    };
    return `COALESCE(${json.wrap(condition())}, FALSE)`;
  }
}

/** Compiles `expr` to a SQL condition over `ctx.alias`; throws ExprError (with a position) for type errors. */
export function compileFilter(expr: Expr, ctx: CompileContext): string {
  return new FilterCompiler(ctx).compile(expr);
}
