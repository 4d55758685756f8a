// `expand=author,comments.author`: inlines related records under `expand`, one query per relation
// and level (never one per row), each related record filtered by its own collection's view rule.

import { ApiError } from './api-error.ts';
import { isMultiValue, type CollectionDef } from './collection-model.ts';
import type { Caller } from './caller.ts';
import { accessSql, ruleAccess } from './record-access.ts';
import { recordFromSelect, selectColumns, visibleRecord, type ApiRecord } from './record-rows.ts';
import { quoteIdent as q, SqlParams, type Queryable } from '../db/database.ts';

const MAX_PATHS = 10;
const MAX_DEPTH = 3;

export interface ExpandTree {
  [field: string]: ExpandTree;
}

/** Parses and checks `expand` against the schema; throws bad_request naming the bad path. */
export function parseExpand(collection: CollectionDef, expand: string, resolve: (name: string) => CollectionDef | undefined): ExpandTree {
  const tree: ExpandTree = {};
  const paths = expand.split(',').map((p) => p.trim()).filter(Boolean);
  if (paths.length > MAX_PATHS) throw new ApiError('bad_request', `expand: at most ${MAX_PATHS} paths`);
  for (const path of paths) {
    const parts = path.split('.');
    if (parts.length > MAX_DEPTH) throw new ApiError('bad_request', `expand: "${path}" is deeper than ${MAX_DEPTH} levels`);
    let node = tree;
    let current: CollectionDef | undefined = collection;
    for (const part of parts) {
      const field = current?.fields.find((f) => f.name === part);
      if (!field || field.type !== 'relation') throw new ApiError('bad_request', `expand: "${path}" — "${part}" is not a relation field of ${current?.name}`);
      current = resolve(field.collection!);
      node = node[part] ??= {};
    }
  }
  return tree;
}

export async function expandRecords(
  db: Queryable,
  caller: Caller,
  collection: CollectionDef,
  records: ApiRecord[],
  tree: ExpandTree,
  resolve: (name: string) => CollectionDef | undefined,
): Promise<void> {
  for (const [fieldName, subtree] of Object.entries(tree)) {
    const field = collection.fields.find((f) => f.name === fieldName)!;
    const target = resolve(field.collection!);
    if (!target) continue;
    const ids = new Set<string>();
    for (const record of records) {
      const value = record[fieldName];
      if (Array.isArray(value)) for (const id of value) ids.add(id as string);
      else if (typeof value === 'string') ids.add(value);
    }
    const related = new Map<string, ApiRecord>();
    if (ids.size > 0) {
      const params = new SqlParams(db.dialect);
      const placeholders = [...ids].map((id) => params.add(id)).join(', ');
      const rule = accessSql(ruleAccess(target, 'view', caller), {
        collection: target, resolveCollection: resolve, params, alias: 'r', caller,
      });
      const sql = `SELECT ${selectColumns(target, 'r')} FROM ${q(target.name)} r WHERE r."id" IN (${placeholders})${rule ? ` AND (${rule})` : ''}`;
      for (const row of await db.all(sql, params.values)) {
        const rec = visibleRecord(target, recordFromSelect(target, row, db.dialect), caller);
        related.set(rec.id, rec);
      }
      if (Object.keys(subtree).length > 0) await expandRecords(db, caller, target, [...related.values()], subtree, resolve);
    }
    for (const record of records) {
      const value = record[fieldName];
      const expanded = isMultiValue(field)
        ? ((value as string[]) ?? []).map((id) => related.get(id)).filter((r): r is ApiRecord => r !== undefined)
        : typeof value === 'string' ? related.get(value) : undefined;
      if (expanded === undefined) continue;
      ((record.expand ??= {}) as Record<string, unknown>)[fieldName] = expanded;
    }
  }
}
