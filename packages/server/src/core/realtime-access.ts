// Who may see a change: a subscriber's list or view rule and its filter, run over the change's
// record by the in-memory evaluator (rules/evaluator.ts, proven against the SQL by the differential
// tests). Relation paths need related records: they are loaded in batches before delivery.

import type { Expr, Operand } from '@galley/expr';
import { findField, type CollectionDef, type RuleName } from './collection-model.ts';
import type { Caller } from './caller.ts';
import type { CollectionService } from './collections.ts';
import { ruleAccess } from './record-access.ts';
import type { ApiRecord } from './record-rows.ts';
import { prepareFilter, type ApiRecordValues, type RecordPredicate } from '../rules/evaluator.ts';
import { MAX_HOPS } from '../rules/operands.ts';

/** Loads records by id without any rule (rules are applied by the caller). */
export type RecordLoader = (collection: CollectionDef, ids: string[]) => Promise<ApiRecord[]>;

/** What one check needs to know about its subscriber. */
export interface Audience {
  caller: Caller;
  /** Equal for callers whose rules give equal answers (same user, same fields): verdicts are shared. */
  key: string;
}

/** Related records for one change's checks: hits, and the misses to load before checking again. */
export class RelationLookups {
  private readonly found = new Map<string, ApiRecordValues | null>();
  private readonly missing = new Map<string, Set<string>>();

  get(collection: string, id: string): ApiRecordValues | undefined {
    const key = `${collection}\0${id}`;
    const hit = this.found.get(key);
    if (hit !== undefined) return hit ?? undefined;
    let ids = this.missing.get(collection);
    if (!ids) this.missing.set(collection, (ids = new Set()));
    ids.add(id);
    return undefined;
  }

  /** Loads the misses of the last checks; false when there were none. */
  async loadMissing(collections: CollectionService, load: RecordLoader): Promise<boolean> {
    if (this.missing.size === 0) return false;
    const wanted = [...this.missing];
    this.missing.clear();
    for (const [name, ids] of wanted) {
      const def = collections.get(name);
      const rows = def ? await load(def, [...ids]) : [];
      for (const id of ids) this.found.set(`${name}\0${id}`, null);
      for (const row of rows) this.found.set(`${name}\0${row.id}`, row);
    }
    return true;
  }
}

const MAX_CACHED_PREDICATES = 10_000;

export class EventAccess {
  /** Prepared predicates per definition (a changed collection is a new object) and audience + expression. */
  private readonly predicates = new WeakMap<CollectionDef, Map<string, RecordPredicate>>();
  /** The lookups of the change being checked; predicates read relations through it. */
  private lookups = new RelationLookups();

  constructor(private readonly collections: CollectionService) {}

  /**
   * Type-checks `filter` (and the rule) for a subscriber, throwing ExprError as compileFilter would;
   * called at subscribe time so a bad filter is refused before any event.
   */
  check(def: CollectionDef, rule: RuleName, audience: Audience, filter: Expr | undefined, filterText: string | undefined): void {
    const access = ruleAccess(def, rule, audience.caller);
    if (access !== 'all' && access !== 'none') this.predicate(def, audience, access, def.rules[rule]!);
    if (filter) this.predicate(def, audience, filter, filterText!);
  }

  /** Whether the audience may see `record` under `rule` and it matches the filter. Relations read `lookups`. */
  allows(def: CollectionDef, rule: RuleName, audience: Audience, record: ApiRecordValues, lookups: RelationLookups, filter?: Expr, filterText?: string): boolean {
    this.lookups = lookups;
    const access = ruleAccess(def, rule, audience.caller);
    if (access === 'none') return false;
    if (access !== 'all' && !this.predicate(def, audience, access, def.rules[rule]!)(record)) return false;
    return !filter || this.predicate(def, audience, filter, filterText!)(record);
  }

  private predicate(def: CollectionDef, audience: Audience, expr: Expr, text: string): RecordPredicate {
    // @now is resolved when a predicate is prepared: such expressions are prepared for every check.
    const cacheable = !text.includes('@now');
    let byKey = this.predicates.get(def);
    if (!byKey) this.predicates.set(def, (byKey = new Map()));
    const key = `${audience.key}\0${text}`;
    let predicate = cacheable ? byKey.get(key) : undefined;
    if (!predicate) {
      predicate = prepareFilter(expr, {
        collection: def,
        resolveCollection: (name) => this.collections.get(name),
        request: { auth: audience.caller.user, now: new Date().toISOString() },
        lookup: (collection, id) => this.lookups.get(collection, id),
      });
      if (cacheable) {
        if (byKey.size >= MAX_CACHED_PREDICATES) byKey.clear();
        byKey.set(key, predicate);
      }
    }
    return predicate;
  }
}

/** Whether an expression follows a relation (its checks then need related records loaded first). */
export function followsRelations(expr: Expr | undefined, def: CollectionDef): boolean {
  if (!expr) return false;
  const viaRelation = (o: Operand) => o.kind === 'field' && o.path.length > 1 && findField(def, o.path[0]!)?.type === 'relation';
  switch (expr.kind) {
    case 'constant':
      return false;
    case 'not':
      return followsRelations(expr.expr, def);
    case 'and':
    case 'or':
      return followsRelations(expr.left, def) || followsRelations(expr.right, def);
    case 'compare':
      return viaRelation(expr.left) || viaRelation(expr.right);
  }
}

/** Rounds of loading for one change: one per relation hop, plus the check that needs none. */
export const LOOKUP_ROUNDS = MAX_HOPS + 1;
