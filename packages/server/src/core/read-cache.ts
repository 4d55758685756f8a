// The server-side cache of public reads: list and record responses that are the same for every
// caller (the rule is "" and nothing in them depends on who asks), kept as their JSON and ETag.
// Every committed record write empties it before the write's response is sent, so a read after a
// write is never stale here; other instances empty theirs when their change feed brings the write.

import type { CollectionDef, RuleName } from './collection-model.ts';
import type { Metrics } from './metrics.ts';
import type { ExpandTree } from './record-expand.ts';

export interface CachedRead {
  body: string;
  etag: string;
}

/** Responses larger than this are not kept: a few big pages must not push out many small ones. */
const MAX_CACHED_BODY = 256 * 1024;

export class ReadCache {
  private readonly entries = new Map<string, CachedRead>();
  private version = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly metrics: Metrics,
  ) {}

  get enabled(): boolean {
    return this.maxEntries > 0;
  }

  /** The current generation: take it before reading the database, hand it back to `set`. */
  get generation(): number {
    return this.version;
  }

  get(key: string): CachedRead | undefined {
    const hit = this.entries.get(key);
    this.metrics.cacheLookups.inc({ result: hit ? 'hit' : 'miss' });
    if (hit) {
      // Most recently used last: the first key is the one to evict.
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  /** Keeps a response read at `generation` — unless a write committed meanwhile (it may predate it). */
  set(key: string, value: CachedRead, generation: number): void {
    if (!this.enabled || generation !== this.version || value.body.length > MAX_CACHED_BODY) return;
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, value);
  }

  /** Forgets everything: a record changed somewhere. */
  invalidate(): void {
    this.version++;
    this.entries.clear();
  }
}

/**
 * Whether reading `collection` under `rule` gives every caller the same answer: the rule lets
 * anyone in (`""`), the collection is not the accounts collection (whose emails only their owners
 * see), and every expanded relation leads to such a collection too (its view rule filters them).
 */
export function isPublicRead(
  collection: CollectionDef,
  rule: RuleName,
  expand: ExpandTree | undefined,
  resolve: (name: string) => CollectionDef | undefined,
): boolean {
  if (collection.system || collection.rules[rule] !== '') return false;
  return Object.entries(expand ?? {}).every(([name, subtree]) => {
    const target = resolve(collection.fields.find((f) => f.name === name)?.collection ?? '');
    return target !== undefined && isPublicRead(target, 'view', subtree, resolve);
  });
}
