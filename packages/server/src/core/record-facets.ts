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

/** Whether a top-level term is about `field` alone (the terms a facet of `field` leaves out). */
function isOwnTerm(term: Expr, field: string): boolean {
  const fields = referencedFields(term);
  return fields.length > 0 && fields.every((f) => f === field);
}

function andOf(terms: Expr[]): Expr | undefined {
  return terms.reduce<Expr | undefined>((acc, term) => (acc ? { kind: 'and', left: acc, right: term, start: acc.start, end: term.end } : term), undefined);
}

/** A facet's value in the matching rows: the column, or for buckets the bucket's index (0 below the first edge). */
function facetValueSql(request: FacetRequest, alias: string, params: SqlParams): string {
  const column = `${alias}.${q(request.field.name)}`;
  if (!request.edges) return column;
  const below = request.edges.map((edge, i) => `WHEN ${column} < ${params.add(edge)} THEN ${i}`);
  return `CASE WHEN ${column} IS NULL THEN NULL ${below.join(' ')} ELSE ${request.edges.length} END`;
}

/**
 * Every facet in one query, so the matching rows are found once: a materialised pass over the rows
 * that match the search, the list rule and the filter terms that every facet keeps, holding each
 * facet's value and a flag per filter term that some facets keep and others leave out; then one
 * `GROUP BY` per facet over those rows, under the flags it keeps. (Measured on SQLite, 3 facets over
 * ~200 hits: 396 → 214 µs, against one query per facet.) The pass is materialised only under a
 * search with two facets or more: without a search it may be the whole table, where each facet's own
 * `GROUP BY` can use an index (a facet over an indexed field of 20k rows measured 1.7 ms inlined,
 * 10.4 ms materialised), so the planner then inlines it into each facet's count, as separate queries were.
 * `compileTerm` and `matching` add their values to `params` when called, in the order the text
 * reads (SQLite's placeholders are positional); `matching` gets the terms every facet keeps.
 */
export function facetsSql(
  requests: FacetRequest[],
  searching: boolean,
  filter: Expr | undefined,
  alias: string,
  params: SqlParams,
  compileTerm: (term: Expr) => string,
  matching: (common: Expr | undefined) => { from: string; where: string[] },
): string {
  const terms = filter ? topLevelTerms(filter) : [];
  const own = requests.map((r) => terms.map((term) => isOwnTerm(term, r.field.name)));
  // A term no facet leaves out narrows the pass itself; one that every facet leaves out is not needed.
  const common = terms.filter((_, i) => own.every((o) => !o[i]));
  const flagged = terms.map((_, i) => i).filter((i) => own.some((o) => o[i]) && own.some((o) => !o[i]));
  const columns = requests.map((r, k) => `${facetValueSql(r, alias, params)} AS "c${k}"`);
  for (const i of flagged) columns.push(`(${compileTerm(terms[i]!)}) AS "t${i}"`);
  const { from, where } = matching(andOf(common));
  const rows = `SELECT ${columns.join(', ')} FROM ${from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
  const postgres = params.dialect === 'postgres';
  const counts = requests.map((request, k) => {
    let source = '"m"';
    let value = `"m"."c${k}"`;
    if (isMultiValue(request.field)) {
      // One row per element; elements of one record are distinct (validation drops repeats).
      source += postgres ? `, jsonb_array_elements_text(${value}) AS "facet"("value")` : `, json_each(${value}) AS "facet"`;
      value = `"facet"."value"`;
    }
    const conditions = [...flagged.filter((i) => !own[k]![i]).map((i) => `"m"."t${i}"`), `${value} IS NOT NULL`];
    const order = `COUNT(*) DESC, ${value}`;
    // PostgreSQL's UNION wants one type per column: values as text (facetCountsOf reads them back).
    return (
      `SELECT ${k} AS "f", "value", "count", "pos" FROM (SELECT ${postgres ? `${value}::text` : value} AS "value", COUNT(*) AS "count", ` +
      `ROW_NUMBER() OVER (ORDER BY ${order}) AS "pos" FROM ${source} WHERE ${conditions.join(' AND ')} GROUP BY ${value} ORDER BY ${order} LIMIT ${params.add(MAX_FACET_VALUES)}) AS "b${k}"`
    );
  });
  const materialised = searching && requests.length > 1 ? 'MATERIALIZED' : 'NOT MATERIALIZED';
  return `WITH "m" AS ${materialised} (${rows}) ${counts.join(' UNION ALL ')} ORDER BY "f", "pos"`;
}

/** The rows of `facetsSql` as the API shows them, by field name. */
export function facetCountsOf(requests: FacetRequest[], rows: Record<string, unknown>[]): Record<string, FacetCount[]> {
  const byFacet = requests.map(() => [] as Record<string, unknown>[]);
  for (const row of rows) byFacet[Number(row.f)]?.push(row);
  const out: Record<string, FacetCount[]> = {};
  requests.forEach((request, k) => {
    const found = byFacet[k]!;
    if (request.edges) {
      const edges = request.edges;
      const count = new Map(found.map((row) => [Number(row.value), Number(row.count)]));
      out[request.field.name] = [...edges, undefined].map((to, i) => ({
        ...(i > 0 ? { from: edges[i - 1] } : {}),
        ...(to !== undefined ? { to } : {}),
        count: count.get(i) ?? 0,
      }));
      return;
    }
    const boolean = request.field.type === 'boolean';
    out[request.field.name] = found.map((row) => ({
      value: boolean ? row.value === true || row.value === 1 || row.value === 'true' : String(row.value),
      count: Number(row.count),
    }));
  });
  return out;
}
