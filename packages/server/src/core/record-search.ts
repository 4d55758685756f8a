// `search=` on record lists: the user's text becomes words, and the words a full-text condition and
// a relevance score per dialect. User text is never query syntax: only letters, digits and marks
// survive into words, and the MATCH / tsquery text is assembled here, quoted, from those words.

import { ApiError } from './api-error.ts';
import type { CollectionDef } from './collection-model.ts';
import { ftsTableName, SEARCH_COLUMN } from '../db/search-ddl.ts';
import { badCursor, packCursor, unpackCursor } from './record-query.ts';
import { quoteIdent as q, type Dialect, type SqlParams } from '../db/database.ts';

export const MAX_SEARCH_WORDS = 32;

/** Letters, digits, private-use characters and combining marks: what the FTS5 tokenizer keeps as words. */
const WORD = /[\p{L}\p{N}\p{Co}\p{M}]+/gu;

/**
 * The words of a search text: everything else (operators, quotes, punctuation, control characters)
 * separates words. Case and accents are folded by the databases, identically for text and query.
 */
export function searchWords(text: string): string[] {
  const words = text.match(WORD) ?? [];
  if (words.length > MAX_SEARCH_WORDS) {
    throw new ApiError('bad_request', `search: at most ${MAX_SEARCH_WORDS} words`, [
      { field: 'search', code: 'too_many_words', message: `must hold at most ${MAX_SEARCH_WORDS} words` },
    ]);
  }
  return words;
}

/** A search over one collection as SQL pieces around the list's root alias. */
export interface SearchSql {
  /** Appended to `FROM table alias`. */
  join: string;
  /** The full-text condition; put it FIRST among the conditions (SQLite placeholders are positional). */
  where: string;
  /** Relevance, higher is better; deterministic for a row and a query, so it can key a cursor. */
  score: string;
}

/**
 * Every word must match, the last one as a prefix (as-you-type). The words can hold no quote or
 * operator of either syntax; the query is assembled from them here, never taken from the user.
 */
export function searchSql(collection: CollectionDef, words: string[], alias: string, params: SqlParams): SearchSql {
  if (collection.search.length === 0) {
    throw new ApiError('bad_request', `search: the collection "${collection.name}" has no search fields`, [
      { field: 'search', code: 'not_searchable', message: 'the collection defines no search fields' },
    ]);
  }
  const last = words.length - 1;
  if (params.dialect === 'postgres') {
    // Folding happens in SQL (unaccent) and may turn a letter into a quote (U+02BC → '), so the
    // words reach tsquery only through plainto_tsquery, which reads no syntax; the last word's
    // lexemes, in tsquery's own escaped text form, get the prefix mark.
    const prefix =
      `(SELECT CASE WHEN numnode("p") = 0 THEN "p" ELSE ("p"::text || ':*')::tsquery END ` +
      `FROM plainto_tsquery('simple'::regconfig, galley_fold(${params.add(words[last])})) AS "p")`;
    // One word has no whole words before it: an empty plainto_tsquery would cost a NOTICE and a
    // tsquery AND each time it is evaluated (measured: twice the time of a one-word facet count).
    // The placeholders are used twice (condition and score): PostgreSQL numbers its parameters.
    const tsquery = last === 0 ? prefix : `(plainto_tsquery('simple'::regconfig, galley_fold(${params.add(words.slice(0, last).join(' '))})) && ${prefix})`;
    const doc = `${alias}.${q(SEARCH_COLUMN)}`;
    return { join: '', where: `${doc} @@ ${tsquery}`, score: `ts_rank(${doc}, ${tsquery})::float8` };
  }
  const fts = q(ftsTableName(collection.name));
  const query = words.map((w, i) => `"${w}"${i === last ? '*' : ''}`).join(' ');
  // `rank` is bm25 with the per-field weights configured on the table (lower is better).
  return { join: ` JOIN ${fts} ON ${fts}.rowid = ${alias}.rowid`, where: `${fts} MATCH ${params.add(query)}`, score: `(-${fts}.rank)` };
}

/**
 * Ranked lists are ordered by (score descending, id ascending); their cursor holds the last row's
 * score and id. A row's score depends only on the row and the query on PostgreSQL; SQLite's bm25
 * also weighs how rare each word is in the collection, so writes between two pages may move rows
 * across the page boundary (never duplicate one within a page).
 */
const RANK_SIGNATURE = '~rank,id';

/**
 * The SQL of a ranked page. SQLite ranks first and fetches after: the inner query sorts only
 * (rowid, id, score) of the hits — every hit must be scored, but only the page's rows need their
 * columns — and the outer one reads those rows by rowid, in the same order (measured: 838 → 631 µs
 * per query at ~200 hits, as the sorter no longer carries every hit's whole row). PostgreSQL's top-N
 * sort keeps only the page's rows anyway, and the split measured within noise there (731 → 712 µs
 * median execution): one query. `where` holds the search condition first (SQLite placeholders are
 * positional); `limit` is the placeholder of the page size + 1, added after every value of `where`.
 */
export function rankedPageSql(page: { table: string; columns: string; from: string; where: string[]; search: SearchSql; alias: string; limit: string; dialect: Dialect }): string {
  const { alias, search, where } = page;
  const order = `"_score" DESC, ${alias}."id" ASC LIMIT ${page.limit}`;
  if (page.dialect === 'postgres') return `SELECT ${page.columns}, ${search.score} AS "_score" FROM ${page.from} WHERE ${where.join(' AND ')} ORDER BY ${order}`;
  const ranked = `SELECT ${alias}.rowid AS "_key", ${alias}."id" AS "_id", ${search.score} AS "_score" FROM ${page.from} WHERE ${where.join(' AND ')} ORDER BY ${order}`;
  return `SELECT ${page.columns}, "h"."_score" AS "_score" FROM (${ranked}) AS "h" JOIN ${page.table} ${alias} ON ${alias}.rowid = "h"."_key" ORDER BY "h"."_score" DESC, "h"."_id" ASC`;
}

export function encodeRankCursor(score: number, id: string): string {
  return packCursor(RANK_SIGNATURE, [score, id]);
}

/** "Comes after the cursor row" in rank order. */
export function rankKeysetSql(search: SearchSql, cursor: string, alias: string, params: SqlParams): string {
  const [score, id] = unpackCursor(RANK_SIGNATURE, cursor, 2);
  if (typeof score !== 'number' || !Number.isFinite(score) || typeof id !== 'string') {
    throw badCursor();
  }
  return `(${search.score} < ${params.add(score)} OR (${search.score} = ${params.add(score)} AND ${alias}."id" > ${params.add(id)}))`;
}
