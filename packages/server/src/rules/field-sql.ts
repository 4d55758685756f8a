// How a field path reads in SQL, per dialect: a column, a correlated subquery through single
// relations, the elements of a JSON array, or a key inside a json field. No values are inlined here.

import { isMultiValue } from '../core/collection-model.ts';
import { quoteIdent as q, type Dialect, type SqlParams } from '../db/database.ts';
import type { FieldPath, Scalar } from './operands.ts';

/** Puts an expression over the path's last table into the subquery that reaches it. */
export type Wrap = (selected: string) => string;
const unwrapped: Wrap = (selected) => selected;

/** One side of a single comparison, in SQL. `param` values are added to the statement when rendered. */
export type SqlTerm =
  | { t: 'column'; sql: string; nullable: boolean }
  | { t: 'subquery'; column: string; wrap: Wrap }
  | { t: 'json'; doc: string; keys: string[]; wrap: Wrap }
  | { t: 'param'; value: Scalar }
  | { t: 'null' }
  /** A request value that cannot become the compared kind. */
  | { t: 'never' };

/** A multi-valued path: `EXISTS (SELECT * FROM from WHERE where AND <element test>)`. */
export interface SqlSet {
  from: string[];
  where: string[];
  element: Extract<SqlTerm, { t: 'column' | 'json' }>;
}

export const SYSTEM_COLUMNS: ReadonlySet<string> = new Set(['id', 'created', 'updated']);

export class FieldSql {
  private aliases = 0;

  constructor(
    private readonly dialect: Dialect,
    private readonly params: SqlParams,
    private readonly rootAlias: string,
  ) {}

  private get pg(): boolean {
    return this.dialect === 'postgres';
  }

  /** Letters only (`r_a`, `r_b` …): SQL text carries no digits but placeholders. */
  private nextAlias(): string {
    let n = this.aliases++;
    let name = '';
    do {
      name = String.fromCharCode(97 + (n % 26)) + name;
      n = Math.floor(n / 26) - 1;
    } while (n >= 0);
    return `${this.rootAlias}_${name}`;
  }

  private arrayElements(column: string, alias: string): string {
    return this.pg ? `jsonb_array_elements_text(${column}) AS ${alias}(value)` : `json_each(${column}) AS ${alias}`;
  }

  /** The path as a single term, or as a set when it is multi-valued. */
  path(path: FieldPath): { t: 'scalar'; term: SqlTerm } | { t: 'set'; set: SqlSet } {
    const from: string[] = [];
    const where: string[] = [];
    let table = this.rootAlias;
    for (const hop of path.hops) {
      const joined = this.nextAlias();
      if (isMultiValue(hop.field)) {
        const ids = this.nextAlias();
        from.push(this.arrayElements(`${table}.${q(hop.field.name)}`, ids), `${q(hop.target.name)} ${joined}`);
        where.push(`${joined}."id" = ${ids}.value`);
      } else {
        from.push(`${q(hop.target.name)} ${joined}`);
        where.push(`${joined}."id" = ${table}.${q(hop.field.name)}`);
      }
      table = joined;
    }
    let column = `${table}.${q(path.field.name)}`;
    if (isMultiValue(path.field)) {
      const values = this.nextAlias();
      from.push(this.arrayElements(column, values));
      column = `${values}.value`;
    }
    const json = path.field.type === 'json';
    if (path.multi) {
      const element = json ? { t: 'json' as const, doc: column, keys: path.jsonKeys, wrap: unwrapped } : { t: 'column' as const, sql: column, nullable: false };
      return { t: 'set', set: { from, where, element } };
    }
    // Ids are primary keys, so a chain of single relations yields at most one row; none reads as null.
    const wrap: Wrap = from.length ? (selected) => `(SELECT ${selected} FROM ${from.join(', ')} WHERE ${where.join(' AND ')})` : unwrapped;
    if (json) return { t: 'scalar', term: { t: 'json', doc: column, keys: path.jsonKeys, wrap } };
    if (from.length) return { t: 'scalar', term: { t: 'subquery', column, wrap } };
    return { t: 'scalar', term: { t: 'column', sql: column, nullable: !SYSTEM_COLUMNS.has(path.field.name) } };
  }

  /** Renders a non-json term; params are added now, so callers render in the order the SQL reads. */
  render(term: SqlTerm): string {
    switch (term.t) {
      case 'column':
        return term.sql;
      case 'subquery':
        return term.wrap(term.column);
      case 'param':
        return this.params.add(!this.pg && typeof term.value === 'boolean' ? Number(term.value) : term.value);
      case 'json':
        return term.wrap(this.jsonValue(term));
      case 'null':
      case 'never':
        throw new Error(`a ${term.t} term has no SQL`);
    }
  }

  casefold(sql: string): string {
    return this.pg ? `lower(${sql})` : `galley_casefold(${sql})`;
  }

  /** Substring search without LIKE, so `%` and `_` in the needle are plain characters. */
  contains(haystack: string, needle: string): string {
    return this.pg ? `strpos(${haystack}, ${needle}) > 0` : `instr(${haystack}, ${needle}) > 0`;
  }

  nullSafeEqual(a: string, b: string): string {
    return this.pg ? `(${a} IS NOT DISTINCT FROM ${b})` : `(${a} IS ${b})`;
  }

  private jsonPath(keys: string[]): string {
    return this.pg ? `CAST(${this.params.add(keys)} AS TEXT[])` : this.params.add(['$', ...keys].join('.'));
  }

  /** The JSON value at the keys as SQL text/number; NULL for JSON null and for a missing key. */
  jsonValue(term: Extract<SqlTerm, { t: 'json' }>): string {
    return this.pg ? `(${term.doc} #>> ${this.jsonPath(term.keys)})` : `json_extract(${term.doc}, ${this.jsonPath(term.keys)})`;
  }

  /** True when the JSON value at the keys is a string (SQLite says 'text', PostgreSQL 'string'). */
  jsonIsString(term: Extract<SqlTerm, { t: 'json' }>): string {
    return this.pg
      ? `jsonb_typeof(${term.doc} #> ${this.jsonPath(term.keys)}) = ${this.params.add('string')}`
      : `json_type(${term.doc}, ${this.jsonPath(term.keys)}) = ${this.params.add('text')}`;
  }

  /** The JSON value at the keys equals a scalar, type included (1 ≠ "1" ≠ true). Not two-valued: callers COALESCE. */
  jsonEquals(term: Extract<SqlTerm, { t: 'json' }>, value: Scalar): string {
    if (this.pg) return `(${term.doc} #> ${this.jsonPath(term.keys)}) = CAST(${this.params.add(JSON.stringify(value))} AS JSONB)`;
    const type = `json_type(${term.doc}, ${this.jsonPath(term.keys)})`;
    // SQLite's json_extract turns true into 1, so booleans are told apart by json_type alone.
    if (typeof value === 'boolean') return `${type} = ${this.params.add(String(value))}`;
    if (typeof value === 'number') return `${type} IN (${this.params.add('integer')}, ${this.params.add('real')}) AND ${this.jsonValue(term)} = ${this.params.add(value)}`;
    return `${type} = ${this.params.add('text')} AND ${this.jsonValue(term)} = ${this.params.add(value)}`;
  }
}
