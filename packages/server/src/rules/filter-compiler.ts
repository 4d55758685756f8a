// Compiles an expression AST to a parameterised SQL condition for SQLite or PostgreSQL. Values only
// ever travel as parameters; SQL text holds identifiers, operators and placeholders. The meaning of
// every operator is documented in compare.ts, which the in-memory evaluator shares.

import { ExprError, type CompareOp, type Comparison, type Expr, type Operand } from '@galley/expr';
import type { CollectionDef } from '../core/collection-model.ts';
import { encodeValue } from '../db/column-types.ts';
import { quoteIdent as q, type Dialect, type SqlParams } from '../db/database.ts';
import { compareScalar, NEGATIVE_OPS, positiveOf } from './compare.ts';
import { coerce, requestValue, resolveFieldPath, UNCOERCIBLE, type FieldPath, type ValueKind } from './operands.ts';
import type { RequestContext } from './request-context.ts';

export interface CompileContext {
  collection: CollectionDef;
  resolveCollection(name: string): CollectionDef | undefined;
  dialect: Dialect;
  params: SqlParams;
  /** SQL alias of the root table. */
  alias: string;
  request: RequestContext;
}

const MAX_REQUEST_ARRAY = 100;

/** One side of a comparison, once resolved. */
type Side =
  | { t: 'value'; value: unknown; literal: boolean; at: number }
  | { t: 'scalar'; sql: string; kind: ValueKind; nullable: boolean; at: number }
  | { t: 'set'; from: string; where: string[]; element: string; kind: ValueKind; at: number };

/** A scalar SQL term for one side of a scalar comparison; `null` is represented by isNull. */
interface Term {
  sql: string;
  nullable: boolean;
  isNull: boolean;
  /** A parameter already lower-cased in JS (for `~`). */
  folded?: boolean;
}

class Compiler {
  private joins = 0;
  constructor(private readonly ctx: CompileContext) {}

  private get pg(): boolean {
    return this.ctx.dialect === 'postgres';
  }

  compile(expr: Expr): string {
    switch (expr.kind) {
      case 'constant':
        return expr.value ? 'TRUE' : 'FALSE';
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

  private jsonElements(column: string, alias: string): string {
    return this.pg ? `jsonb_array_elements_text(${column}) AS ${alias}(value)` : `json_each(${column}) AS ${alias}`;
  }

  private side(operand: Operand): Side {
    if (operand.kind === 'literal') return { t: 'value', value: operand.value, literal: true, at: operand.start };
    if (operand.kind === 'request' || operand.kind === 'now') return { t: 'value', value: requestValue(operand, this.ctx.request), literal: false, at: operand.start };
    const path = resolveFieldPath(operand, this.ctx.collection, this.ctx.resolveCollection);
    return this.fieldSide(path, operand.start);
  }

  private fieldSide(path: FieldPath, at: number): Side {
    const { alias } = this.ctx;
    if (path.hops.length === 0 && !path.multi) return { t: 'scalar', sql: `${alias}.${q(path.field.name)}`, kind: path.kind, nullable: path.field.name !== 'id' && path.field.name !== 'created' && path.field.name !== 'updated', at };
    const from: string[] = [];
    const where: string[] = [];
    let current = alias;
    path.hops.forEach((hop, i) => {
      const n = ++this.joins;
      const table = `j${n}`;
      if (hop.multiple) {
        from.push(this.jsonElements(`${current}.${q(hop.name)}`, `e${n}`));
        from.push(`${q(path.targets[i]!.name)} ${table}`);
        where.push(`${table}."id" = e${n}.value`);
      } else {
        from.push(`${q(path.targets[i]!.name)} ${table}`);
        where.push(`${table}."id" = ${current}.${q(hop.name)}`);
      }
      current = table;
    });
    let element = `${current}.${q(path.field.name)}`;
    if (path.field.multiple && (path.field.type === 'select' || path.field.type === 'relation' || path.field.type === 'file')) {
      const n = ++this.joins;
      from.push(this.jsonElements(element, `e${n}`));
      element = `e${n}.value`;
    }
    if (path.multi) return { t: 'set', from: from.join(', '), where, element, kind: path.kind, at };
    // Single relations only: the subquery yields at most one row (ids are primary keys).
    return { t: 'scalar', sql: `(SELECT ${element} FROM ${from.join(', ')} WHERE ${where.join(' AND ')})`, kind: path.kind, nullable: true, at };
  }

  private comparison(cmp: Comparison): string {
    const left = this.side(cmp.left);
    const right = this.side(cmp.right);
    if (left.t === 'value' && right.t === 'value') return this.fold(cmp.op, left.value, right.value) ? 'TRUE' : 'FALSE';
    if (left.t === 'set' && right.t === 'set') throw new ExprError(`cannot compare two multi-value operands (at ${cmp.start})`, cmp.start);
    if (left.t !== 'value' && right.t !== 'value' && left.kind !== right.kind) {
      throw new ExprError(`cannot compare ${left.kind} with ${right.kind} (at ${cmp.start})`, cmp.start);
    }
    const kind = left.t !== 'value' ? left.kind : (right as Exclude<Side, { t: 'value' }>).kind;
    this.checkOperator(cmp.op, kind, cmp.start);
    const set = left.t === 'set' ? left : right.t === 'set' ? right : undefined;
    if (set) {
      const other = set === left ? right : left;
      const setOnLeft = set === left;
      const negate = NEGATIVE_OPS.has(cmp.op) && !cmp.any;
      const op = negate ? positiveOf(cmp.op) : cmp.op;
      if (other.t === 'value' && other.value === null && (op === '=' || op === '!=')) {
        const exists = `EXISTS (SELECT 1 FROM ${set.from}${set.where.length ? ` WHERE ${set.where.join(' AND ')}` : ''})`;
        return op === '=' ? `NOT ${exists}` : exists;
      }
      const element: Side = { t: 'scalar', sql: set.element, kind: set.kind, nullable: true, at: set.at };
      const inner = this.scalarComparison(op, setOnLeft ? element : other, setOnLeft ? other : element, kind);
      const exists = `EXISTS (SELECT 1 FROM ${set.from} WHERE ${[...set.where, inner].join(' AND ')})`;
      return negate ? `NOT ${exists}` : exists;
    }
    return this.scalarComparison(cmp.op, left, right, kind);
  }

  private checkOperator(op: CompareOp, kind: ValueKind, at: number): void {
    const ordering = op === '>' || op === '>=' || op === '<' || op === '<=';
    if (ordering && (kind === 'boolean' || kind === 'json')) throw new ExprError(`${kind} values cannot be ordered with ${op} (at ${at})`, at);
    if ((op === '~' || op === '!~') && kind !== 'text') throw new ExprError(`${op} works on text only (at ${at})`, at);
  }

  /** Folds a comparison of two request/literal values in JS; arrays (e.g. roles) match if any element does. */
  private fold(op: CompareOp, a: unknown, b: unknown): boolean {
    const negate = NEGATIVE_OPS.has(op) && (Array.isArray(a) || Array.isArray(b));
    const base = negate ? positiveOf(op) : op;
    const as = Array.isArray(a) ? a : [a];
    const bs = Array.isArray(b) ? b : [b];
    const any = as.some((x) => bs.some((y) => compareScalar(base, x, y)));
    return negate ? !any : any;
  }

  private scalarComparison(op: CompareOp, left: Side, right: Side, kind: ValueKind): string {
    const value = left.t === 'value' ? left : right.t === 'value' ? right : undefined;
    if (value && Array.isArray(value.value)) {
      if (value.literal) throw new ExprError(`unexpected list at ${value.at}`, value.at);
      // A request value holding a list: any element matching counts, as with multi-value fields.
      const negate = NEGATIVE_OPS.has(op);
      const base = positiveOf(op);
      const items = (value.value as unknown[]).slice(0, MAX_REQUEST_ARRAY);
      const parts = items.map((item) => {
        const one: Side = { ...value, value: item };
        return this.scalarComparison(base, left === value ? one : left, right === value ? one : right, kind);
      });
      const any = parts.length ? `(${parts.join(' OR ')})` : 'FALSE';
      return negate ? `NOT ${any}` : any;
    }
    const a = this.term(left, kind, op);
    const b = this.term(right, kind, op);
    if (a === undefined || b === undefined) return NEGATIVE_OPS.has(op) ? 'TRUE' : 'FALSE';
    return this.scalarSql(op, a, b, kind);
  }

  /** A term for one side; undefined for a request value that cannot become `kind` (never matches). */
  private term(side: Side, kind: ValueKind, op: CompareOp): Term | undefined {
    if (side.t === 'scalar') return { sql: side.sql, nullable: side.nullable, isNull: false };
    if (side.t === 'set') throw new Error('unreachable: sets are handled by the caller');
    const value = coerce(side.value, kind, side.literal ? { at: side.at } : false);
    if (value === UNCOERCIBLE) return undefined;
    if (value === null) return { sql: 'NULL', nullable: true, isNull: true };
    const contains = op === '~' || op === '!~';
    const bound = contains ? String(value).toLowerCase() : encodeValue({ name: '', type: kind === 'text' ? 'text' : kind }, value, this.ctx.dialect);
    return { sql: this.ctx.params.add(bound), nullable: false, isNull: false, folded: contains };
  }

  private notNull(...terms: Term[]): string[] {
    return terms.filter((t) => t.nullable).map((t) => `${t.sql} IS NOT NULL`);
  }

  private scalarSql(op: CompareOp, a: Term, b: Term, kind: ValueKind): string {
    switch (op) {
      case '=':
        if (a.isNull || b.isNull) return a.isNull && b.isNull ? 'TRUE' : `${a.isNull ? b.sql : a.sql} IS NULL`;
        if (a.nullable && b.nullable) return this.pg ? `${a.sql} IS NOT DISTINCT FROM ${b.sql}` : `${a.sql} IS ${b.sql}`;
        // Written as a plain `=` (plus a null guard) so both databases can use an index for it.
        return `(${[`${a.sql} = ${b.sql}`, ...this.notNull(a, b)].join(' AND ')})`;
      case '!=':
        return `NOT ${this.scalarSql('=', a, b, kind)}`;
      case '~': {
        if (a.isNull || b.isNull) return 'FALSE';
        const fold = (t: Term) => (t.folded ? t.sql : this.pg ? `lower(${t.sql})` : `galley_casefold(${t.sql})`);
        const test = this.pg ? `strpos(${fold(a)}, ${fold(b)}) > 0` : `instr(${fold(a)}, ${fold(b)}) > 0`;
        return `(${[test, ...this.notNull(a, b)].join(' AND ')})`;
      }
      case '!~':
        return `NOT ${this.scalarSql('~', a, b, kind)}`;
      default: {
        if (a.isNull || b.isNull) return 'FALSE';
        // Code point order for text on PostgreSQL whatever the database collation (SQLite's BINARY is already that).
        const collate = this.pg && kind === 'text' ? ' COLLATE "C"' : '';
        return `(${[`${a.sql}${collate} ${op} ${b.sql}`, ...this.notNull(a, b)].join(' AND ')})`;
      }
    }
  }
}

/** Compiles `expr` to a SQL condition over `ctx.alias`; throws ExprError (with a position) for type errors. */
export function compileFilter(expr: Expr, ctx: CompileContext): string {
  return new Compiler(ctx).compile(expr);
}
