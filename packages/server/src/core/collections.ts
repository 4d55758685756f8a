// The collection service: the definitions (kept in `_collections`, cached in memory) and their
// lifecycle — create, update with an in-place table migration, delete — each in one transaction.

import crypto from 'node:crypto';
import { ApiError } from './api-error.ts';
import type { CollectionDef, FieldDef } from './collection-model.ts';
import { validateCollectionInput } from './collection-validation.ts';
import { createCollectionTable, dropCollectionTable, migrateCollectionTable } from '../db/collection-ddl.ts';
import { SqlParams, type Database, type Queryable, type Transaction } from '../db/database.ts';

export type RuleChecker = (rule: string, collection: CollectionDef, resolve: (name: string) => CollectionDef | undefined) =>
  | { message: string; position: number }
  | undefined;

/** The built-in accounts collection: account columns live beside these editable fields. */
export const USERS_COLLECTION: CollectionDef = {
  name: 'users',
  system: true,
  fields: [{ id: 'usersname0', name: 'name', type: 'text', max: 200 }],
  indexes: [],
  search: [],
  rules: { list: 'id = @request.auth.id', view: 'id = @request.auth.id', create: null, update: 'id = @request.auth.id', delete: null },
};

const newFieldId = () => crypto.randomBytes(8).toString('hex');

/**
 * What else keeps data per collection (files, …) follows a definition's change inside the same
 * transaction, so a rolled-back migration leaves it as it was.
 */
export interface CollectionLifecycle {
  collectionUpdatedIn(tx: Transaction, before: CollectionDef, after: CollectionDef): Promise<void>;
  collectionDeletedIn(tx: Transaction, def: CollectionDef): Promise<void>;
}

/** The notification channel that announces a changed collection definition to other instances. */
const COLLECTIONS_CHANNEL = 'galley_collections';

/** A `_collections.definition` as read: text on SQLite, already parsed JSON on PostgreSQL. */
export function parseStoredDefinition(value: unknown): CollectionDef {
  return (typeof value === 'string' ? JSON.parse(value) : value) as CollectionDef;
}

export class CollectionService {
  private readonly byName = new Map<string, CollectionDef>();
  private changeCount = 0;
  private readonly lifecycles: CollectionLifecycle[] = [];

  constructor(
    private readonly db: Database,
    private readonly checkRule: RuleChecker,
  ) {}

  /** `lifecycle` hears every update and delete of a definition, in its transaction. */
  follow(lifecycle: CollectionLifecycle): void {
    this.lifecycles.push(lifecycle);
  }

  /** Bumped on every change, so caches derived from the definitions (OpenAPI) know when to rebuild. */
  get version(): number {
    return this.changeCount;
  }

  /** Loads the definitions, creating the built-in `users` collection on first start. */
  async load(): Promise<void> {
    const rows = await this.db.all<{ definition: unknown }>(`SELECT "definition" FROM "_collections" ORDER BY "name"`);
    this.byName.clear();
    for (const row of rows) {
      const def = parseStoredDefinition(row.definition);
      this.byName.set(def.name, def);
    }
    if (!this.byName.has('users')) {
      await this.db.transaction(async (tx) => {
        if (tx.dialect === 'postgres') await tx.exec('SELECT pg_advisory_xact_lock(7311002)');
        const p = new SqlParams(tx.dialect);
        const exists = await tx.get(`SELECT 1 AS x FROM "_collections" WHERE "name" = ${p.add('users')}`, p.values);
        if (exists) return;
        await createCollectionTable(tx, USERS_COLLECTION, true);
        await this.save(tx, USERS_COLLECTION, true);
      });
      this.byName.set('users', USERS_COLLECTION);
    }
    this.changeCount++;
  }

  /**
   * Follows changes made by other instances sharing the database (PostgreSQL): each change is
   * announced on commit, and every instance reloads the definitions when it hears one.
   */
  async watch(onError: (err: unknown) => void): Promise<void> {
    await this.db.listen(COLLECTIONS_CHANNEL, () => {
      this.load().then(() => this.db.resetStatementCache(), onError);
    });
  }

  list(): CollectionDef[] {
    return [...this.byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): CollectionDef | undefined {
    return this.byName.get(name);
  }

  /** The collection, or 404 not_found. */
  require(name: string): CollectionDef {
    const def = this.byName.get(name);
    if (!def) throw ApiError.notFound(`Collection "${name}"`);
    return def;
  }

  /** The other collections with a relation field pointing at `name`. */
  private relatedFrom(name: string): CollectionDef[] {
    return this.list().filter((c) => c.name !== name && c.fields.some((f) => f.type === 'relation' && f.collection === name));
  }

  private validate(input: unknown, current?: CollectionDef): CollectionDef {
    return validateCollectionInput(input, {
      current,
      exists: (name) => this.byName.has(name),
      checkRule: (rule, draft) =>
        this.checkRule(rule, draft, (name) => (name === draft.name ? draft : name === current?.name ? undefined : this.byName.get(name))),
    });
  }

  private async save(tx: Queryable, def: CollectionDef, insert: boolean, previousName = def.name): Promise<void> {
    const now = new Date().toISOString();
    const p = new SqlParams(tx.dialect);
    if (insert) {
      def.created = def.updated = now;
      await tx.run(`INSERT INTO "_collections" ("name", "definition", "created", "updated") VALUES (${p.add(def.name)}, ${p.add(JSON.stringify(def))}, ${p.add(now)}, ${p.add(now)})`, p.values);
    } else {
      def.updated = now;
      await tx.run(`UPDATE "_collections" SET "name" = ${p.add(def.name)}, "definition" = ${p.add(JSON.stringify(def))}, "updated" = ${p.add(now)} WHERE "name" = ${p.add(previousName)}`, p.values);
    }
  }

  async create(input: unknown): Promise<CollectionDef> {
    const def = this.validate(input);
    for (const field of def.fields) field.id = newFieldId();
    await this.db.transaction(async (tx) => {
      await createCollectionTable(tx, def);
      await this.save(tx, def, true);
      await tx.notify(COLLECTIONS_CHANNEL);
    });
    this.db.resetStatementCache();
    this.byName.set(def.name, def);
    this.changeCount++;
    return def;
  }

  async update(name: string, input: unknown): Promise<CollectionDef> {
    const current = this.require(name);
    const next = this.validate(input, current);
    next.created = current.created;
    matchFieldIds(current.fields, next.fields);
    // Relations elsewhere follow a renamed collection.
    const dependants = next.name !== current.name ? this.relatedFrom(current.name) : [];
    await this.db.transaction(async (tx) => {
      await migrateCollectionTable(tx, current, next);
      await this.save(tx, next, false, current.name);
      for (const dep of dependants) {
        for (const f of dep.fields) if (f.collection === current.name) f.collection = next.name;
        await this.save(tx, dep, false);
      }
      for (const lifecycle of this.lifecycles) await lifecycle.collectionUpdatedIn(tx, current, next);
      await tx.notify(COLLECTIONS_CHANNEL);
    }).catch(async (err: unknown) => {
      // The dependants were edited in place before the rollback: reload them from the database.
      if (dependants.length > 0) await this.load();
      throw err;
    });
    this.db.resetStatementCache();
    if (next.name !== current.name) this.byName.delete(current.name);
    this.byName.set(next.name, next);
    this.changeCount++;
    return next;
  }

  async delete(name: string): Promise<void> {
    const current = this.require(name);
    if (current.system) throw new ApiError('forbidden', `the built-in collection "${name}" cannot be deleted`);
    const referrers = this.relatedFrom(name);
    if (referrers.length > 0) {
      throw new ApiError('conflict', `collection "${name}" is related to by ${referrers.map((c) => c.name).join(', ')}; remove those relation fields first`);
    }
    await this.db.transaction(async (tx) => {
      await dropCollectionTable(tx, current);
      const p = new SqlParams(tx.dialect);
      await tx.run(`DELETE FROM "_collections" WHERE "name" = ${p.add(name)}`, p.values);
      for (const lifecycle of this.lifecycles) await lifecycle.collectionDeletedIn(tx, current);
      await tx.notify(COLLECTIONS_CHANNEL);
    });
    this.db.resetStatementCache();
    this.byName.delete(name);
    this.changeCount++;
  }
}

/** Gives each field of a new definition the id of the field it continues (by id, else by name), or a new one. */
function matchFieldIds(before: FieldDef[], after: FieldDef[]): void {
  const ids = new Set(before.map((f) => f.id));
  for (const field of after) {
    if (field.id && ids.has(field.id)) continue;
    const sameName = before.find((f) => f.name === field.name && !after.some((a) => a !== field && a.id === f.id));
    field.id = sameName?.id ?? newFieldId();
  }
}
