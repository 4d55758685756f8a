// What people search for: every first-page search is counted per collection and term with its
// result count, so a superuser can see the searches that find nothing (GET /api/v1/search-insights).
// Counts are gathered in memory and written in one transaction every few seconds, so a search never
// waits for a write.

import { decodeTimestamp } from '../db/column-types.ts';
import { SqlParams, type Database } from '../db/database.ts';

export interface SearchTermStats {
  collection: string;
  term: string;
  searches: number;
  zeroResults: number;
  /** Results on the first page of the latest search. */
  lastResults: number;
  lastSearched: string;
}

const FLUSH_INTERVAL_MS = 5000;
/** Distinct terms held between flushes; beyond it new terms wait for the next flush. */
const MAX_PENDING_TERMS = 10_000;
const MAX_TERM_LENGTH = 200;

export class SearchInsights {
  private pending = new Map<string, SearchTermStats>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Database,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Counts one search (its words, as the index sees them) that found `results` records on its first page. */
  record(collection: string, words: string[], results: number): void {
    const term = words.join(' ').toLowerCase().slice(0, MAX_TERM_LENGTH);
    const key = `${collection}\n${term}`;
    let entry = this.pending.get(key);
    if (!entry) {
      if (this.pending.size >= MAX_PENDING_TERMS) return;
      this.pending.set(key, (entry = { collection, term, searches: 0, zeroResults: 0, lastResults: 0, lastSearched: '' }));
    }
    entry.searches++;
    if (results === 0) entry.zeroResults++;
    entry.lastResults = results;
    entry.lastSearched = new Date().toISOString();
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, FLUSH_INTERVAL_MS).unref();
  }

  /** Writes what was gathered; flushes never overlap. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write()).catch(this.onError);
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    await this.db.transaction(async (tx) => {
      for (const e of batch) {
        const p = new SqlParams(tx.dialect);
        await tx.run(
          `INSERT INTO "_search_terms" ("collection", "term", "searches", "zero_results", "last_results", "last_searched") ` +
            `VALUES (${p.add(e.collection)}, ${p.add(e.term)}, ${p.add(e.searches)}, ${p.add(e.zeroResults)}, ${p.add(e.lastResults)}, ${p.add(e.lastSearched)}) ` +
            `ON CONFLICT ("collection", "term") DO UPDATE SET "searches" = "_search_terms"."searches" + excluded."searches", ` +
            `"zero_results" = "_search_terms"."zero_results" + excluded."zero_results", "last_results" = excluded."last_results", ` +
            `"last_searched" = excluded."last_searched"`,
          p.values,
        );
      }
    });
  }

  /**
   * The recorded terms, most searched first; `zeroOnly` keeps the terms whose latest search found
   * nothing. Pending counts are written first, so the answer includes the searches just made.
   */
  async list(options: { collection?: string; zeroOnly?: boolean; limit: number }): Promise<SearchTermStats[]> {
    await this.flush();
    const p = new SqlParams(this.db.dialect);
    const where: string[] = [];
    if (options.collection) where.push(`"collection" = ${p.add(options.collection)}`);
    if (options.zeroOnly) where.push(`"last_results" = ${p.add(0)}`);
    const rows = await this.db.all<{ collection: string; term: string; searches: number; zero_results: number; last_results: number; last_searched: unknown }>(
      `SELECT "collection", "term", "searches", "zero_results", "last_results", "last_searched" FROM "_search_terms"` +
        (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
        ` ORDER BY "searches" DESC, "last_searched" DESC, "collection", "term" LIMIT ${p.add(options.limit)}`,
      p.values,
    );
    return rows.map((r) => ({
      collection: r.collection,
      term: r.term,
      searches: Number(r.searches),
      zeroResults: Number(r.zero_results),
      lastResults: Number(r.last_results),
      lastSearched: decodeTimestamp(r.last_searched)!,
    }));
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
