// `facets=` on record lists: counts per value of select, boolean and relation fields (single or
// multiple), and per bucket of number fields (`price:0,10,50`), under the list's search and filter —
// each field's own top-level filter terms left out, so a selected option still shows its siblings.

import type { Expr, Operand } from '@galley/expr';
import type { FacetCount, FieldError } from '@galley/protocol';
import { ApiError } from './api-error.ts';
import { isMultiValue, type CollectionDef, type FieldDef } from './collection-model.ts';
import { quoteIdent as q, type SqlParams } from '../db/database.ts';

export const MAX_FACETS = 10;
export const MAX_BUCKET_EDGES = 20;
/** Values per facet, most frequent first. */
export const MAX_FACET_VALUES = 100;

export interface FacetRequest {
  field: FieldDef;
  /** Number fields: ascending bucket edges. */
  edges?: number[];
}

const FACETABLE = new Set(['select', 'boolean', 'relation']);

function badFacets(code: string, message: string): ApiError {
  const error: FieldError = { field: 'facets', code, message };
  return new ApiError('bad_request', `facets: ${message}`, [error]);
}

const NUMBER = /^-?(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?$/i;

/**
 * Parses `status,tags,price:0,10,50`. Commas separate facets and bucket edges alike: after `name:`,
 * numbers are its edges until the next name (field names never start with a digit or a sign).
 */
export function parseFacets(collection: CollectionDef, text: string): FacetRequest[] {
  const requests: FacetRequest[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    const current = requests[requests.length - 1];
    if (current?.edges && NUMBER.test(item)) {
      current.edges.push(Number(item));
      continue;
    }
    const colon = item.indexOf(':');
    const name = colon < 0 ? item : item.slice(0, colon);
    const field = collection.fields.find((f) => f.name === name);
    const shown = JSON.stringify(name.slice(0, 100));
    if (!field) throw badFacets('unknown_field', `${shown} is not a field of ${collection.name}`);
    if (requests.some((r) => r.field === field)) throw badFacets('duplicate', `${shown} is asked for twice`);
    if (field.type === 'number') {
      const first = colon < 0 ? '' : item.slice(colon + 1).trim();
      if (!NUMBER.test(first)) throw badFacets('invalid_buckets', `${shown} is a number field: give bucket edges, like ${name}:0,10,50`);
      requests.push({ field, edges: [Number(first)] });
    } else if (colon >= 0) {
      throw badFacets('invalid_buckets', `only number fields take bucket edges, and ${shown} is ${field.type}`);
    } else if (!FACETABLE.has(field.type)) {
      throw badFacets('not_facetable', `${shown} is a ${field.type} field; facets count select, boolean, relation and number fields`);
    } else requests.push({ field });
    if (requests.length > MAX_FACETS) throw badFacets('too_many', `at most ${MAX_FACETS} facets`);
  }
  for (const { field, edges } of requests) {
    if (!edges) continue;
    if (edges.length > MAX_BUCKET_EDGES) throw badFacets('invalid_buckets', `${field.name}: at most ${MAX_BUCKET_EDGES} bucket edges`);
    if (edges.some((e, i) => !Number.isFinite(e) || (i > 0 && e <= edges[i - 1]!))) {
      throw badFacets('invalid_buckets', `${field.name}: bucket edges must be finite numbers in ascending order`);
    }
  }
  return requests;
}

function fieldsOf(operand: Operand): string[] {
  return operand.kind === 'field' ? [operand.path[0]!] : [];
}

function referencedFields(expr: Expr): string[] {
  switch (expr.kind) {
    case 'compare':
      return [...fieldsOf(expr.left), ...fieldsOf(expr.right)];
    case 'not':
      return referencedFields(expr.expr);
    case 'and':
    case 'or':
      return [...referencedFields(expr.left), ...referencedFields(expr.right)];
    case 'constant':
      return [];
  }
}

function topLevelTerms(expr: Expr): Expr[] {
  return expr.kind === 'and' ? [...topLevelTerms(expr.left), ...topLevelTerms(expr.right)] : [expr];
}

/**
 * The filter without the top-level `&&` terms that are about `field` alone (`status = 'a'`,
 * `(status = 'a' || status = 'b')`, `tags ?= 'x'`, `author.name = 'x'`); undefined when none is left.
 */
export function withoutOwnTerms(filter: Expr | undefined, field: string): Expr | undefined {
  if (!filter) return undefined;
  const kept = topLevelTerms(filter).filter((term) => {
    const fields = referencedFields(term);
    return fields.length === 0 || fields.some((f) => f !== field);
  });
  return kept.reduce<Expr | undefined>((acc, term) => (acc ? { kind: 'and', left: acc, right: term, start: acc.start, end: term.end } : term), undefined);
}

/**
 * The counting query of one facet over the list's matching rows. `matching` adds their conditions
 * to `params` when called: after the bucket edges, which the SQL text names first (SQLite's
 * placeholders are positional).
 */
export function facetSql(request: FacetRequest, alias: string, params: SqlParams, matching: () => { from: string; where: string[] }): string {
  const column = `${alias}.${q(request.field.name)}`;
  if (request.edges) {
    const edges = request.edges;
    // Each use gets its own placeholder (SQLite's `?` are consumed in order), added as the text reads.
    const bucket = (lower: number | undefined, upper: number | undefined) => {
      const tests = [];
      if (lower !== undefined) tests.push(`${column} >= ${params.add(lower)}`);
      if (upper !== undefined) tests.push(`${column} < ${params.add(upper)}`);
      return `COUNT(*) FILTER (WHERE ${tests.join(' AND ')})`;
    };
    const counts = [undefined, ...edges].map((lower, i) => bucket(lower, edges[i]));
    const { from, where } = matching();
    return `SELECT ${counts.map((c, i) => `${c} AS ${q(`b${i}`)}`).join(', ')} FROM ${from} WHERE ${[...where, `${column} IS NOT NULL`].join(' AND ')}`;
  }
  const { from, where } = matching();
  let source = from;
  let value = column;
  if (isMultiValue(request.field)) {
    // One row per element; elements of one record are distinct (validation drops repeats).
    source += params.dialect === 'postgres' ? `, jsonb_array_elements_text(${column}) AS "facet"("value")` : `, json_each(${column}) AS "facet"`;
    value = `"facet"."value"`;
  }
  return (
    `SELECT ${value} AS "value", COUNT(*) AS "count" FROM ${source} WHERE ${[...where, `${value} IS NOT NULL`].join(' AND ')}` +
    ` GROUP BY ${value} ORDER BY COUNT(*) DESC, ${value} LIMIT ${params.add(MAX_FACET_VALUES)}`
  );
}

/** The rows of `facetSql` as the API shows them. */
export function facetCounts(request: FacetRequest, rows: Record<string, unknown>[]): FacetCount[] {
  if (request.edges) {
    const row = rows[0] ?? {};
    const edges = request.edges;
    return [...edges, undefined].map((to, i) => ({
      ...(i > 0 ? { from: edges[i - 1] } : {}),
      ...(to !== undefined ? { to } : {}),
      count: Number(row[`b${i}`] ?? 0),
    }));
  }
  const boolean = request.field.type === 'boolean';
  return rows.map((row) => ({
    value: boolean ? row.value === true || row.value === 1 : String(row.value),
    count: Number(row.count),
  }));
}
