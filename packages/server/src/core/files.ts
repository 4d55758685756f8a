// The files of records: staged uploads become stored objects and `_files` metadata rows, a record's
// file fields name them, and what a write replaces or a delete leaves behind is removed by jobs
// once the transaction has committed. Thumbnails are made by a job too (core/thumbnails.ts).
//
// Order of a write with files: stage (local disk) → store (Storage, guarded by a delayed job that
// deletes the objects unless a committed row names them) → the record's transaction writes the
// row, the `_files` rows and the follow-up jobs. A crash anywhere leaves nothing behind for good.

import crypto from 'node:crypto';
import fs from 'node:fs';
import { pipeline } from 'node:stream';
import type { FieldError } from '@galley/protocol';
import type { Caller } from './caller.ts';
import { isMultiValue, type CollectionDef, type FieldDef } from './collection-model.ts';
import type { CollectionLifecycle, CollectionService } from './collections.ts';
import { storedFileName } from './file-names.ts';
import { DigestStream, type StagedFile } from './file-staging.ts';
import type { JobQueue } from './jobs.ts';
import type { ApiRecord } from './record-rows.ts';
import { canThumbnail, makeThumbnails, thumbnailKey, type ThumbState } from './thumbnails.ts';
import { SqlParams, type Database, type Queryable, type Transaction } from '../db/database.ts';
import type { Storage } from '../storage/storage.ts';

/** A multi-file field holds at most this many files. */
export const MAX_FILES_PER_FIELD = 100;
/** Stored objects that no committed row names after this long are removed. */
const UNREFERENCED_GRACE_MS = 60 * 60 * 1000;
/** Object keys per removal job. */
const DELETE_JOB_KEYS = 500;

export interface StoredUpload extends StagedFile {
  name: string;
  key: string;
  sha256: string;
}

export interface FileRow {
  id: string;
  collection: string;
  recordId: string;
  field: string;
  name: string;
  key: string;
  originalName: string;
  size: number;
  sha256: string;
  type: string;
  uploader: string | null;
  thumbs: Record<string, ThumbState>;
  created: string;
}

/** What a write does to the file fields it touches. */
export interface FilePlan {
  values: Record<string, unknown>;
  errors: FieldError[];
  added: StoredUpload[];
  removed: string[];
}

export const JOB_DELETE = 'files.delete';
export const JOB_DISCARD_UNREFERENCED = 'files.discard-unreferenced';
export const JOB_THUMBNAILS = 'files.thumbnails';

function namesOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return typeof value === 'string' ? [value] : [];
}

function fileRow(row: Record<string, unknown>): FileRow {
  const thumbs = typeof row.thumbs === 'string' ? JSON.parse(row.thumbs) : row.thumbs;
  return {
    id: String(row.id), collection: String(row.collection), recordId: String(row.record_id), field: String(row.field),
    name: String(row.name), key: String(row.key), originalName: String(row.original_name), size: Number(row.size),
    sha256: String(row.sha256), type: String(row.type), uploader: (row.uploader as string | null) ?? null,
    thumbs: (thumbs ?? {}) as Record<string, ThumbState>,
    created: row.created instanceof Date ? row.created.toISOString() : String(row.created),
  };
}

export class FileService implements CollectionLifecycle {
  constructor(
    private readonly db: Database,
    private readonly storage: Storage,
    private readonly jobs: JobQueue,
    private readonly collections: CollectionService,
    readonly stagingDir: string,
  ) {
    fs.mkdirSync(stagingDir, { recursive: true, mode: 0o700 });
    jobs.register(JOB_DELETE, async (payload) => {
      for (const key of (payload as { keys: string[] }).keys) await this.storage.delete(key);
    });
    jobs.register(JOB_DISCARD_UNREFERENCED, (payload) => this.discardUnreferenced((payload as { keys: string[] }).keys));
    jobs.register(JOB_THUMBNAILS, (payload) => this.makeThumbnails((payload as { fileId: string }).fileId));
  }

  /**
   * Puts staged files into storage under fresh names. Before the first byte goes out, a delayed job
   * is queued that removes these objects unless a committed `_files` row names them by then.
   */
  async store(collection: CollectionDef, staged: readonly StagedFile[]): Promise<StoredUpload[]> {
    if (staged.length === 0) return [];
    const planned = staged.map((file) => {
      const name = storedFileName(file.originalName, file.ext);
      return { file, name, key: `${collection.name}/${name}` };
    });
    await this.jobs.enqueue(JOB_DISCARD_UNREFERENCED, { keys: planned.map((p) => p.key) }, { delayMs: UNREFERENCED_GRACE_MS });
    const done: StoredUpload[] = [];
    try {
      for (const { file, name, key } of planned) {
        const sha256 = await this.put(key, file);
        done.push({ ...file, name, key, sha256 });
      }
    } catch (err) {
      await this.discard(done);
      throw err;
    }
    return done;
  }

  /**
   * Stores one file and answers its SHA-256: the staged one, or (a tus upload, which is never
   * copied to staging) the digest of the bytes as they stream into storage: one read of the upload.
   */
  private async put(key: string, file: StagedFile): Promise<string> {
    if (file.sha256 !== undefined) {
      await this.storage.put(key, file.open(), file.size);
      return file.sha256;
    }
    const digest = new DigestStream();
    // A failing source destroys `digest` with its error, which fails the put (nothing stored).
    await this.storage.put(key, pipeline(file.open(), digest, () => {}), file.size);
    if (digest.size !== file.size) {
      await this.storage.delete(key).catch(() => {});
      throw new Error(`${key}: ${digest.size} bytes hashed of the ${file.size} stored`);
    }
    return digest.hash.digest('hex');
  }

  /** Removes stored uploads whose record was never written (best effort; the guard job follows up). */
  async discard(uploads: readonly StoredUpload[]): Promise<void> {
    await Promise.all(uploads.map((u) => this.storage.delete(u.key).catch(() => {})));
  }

  /**
   * Works out the file fields of a create (`existing` undefined) or update. In the body a single
   * file field takes `null` (remove) or its current name; a multiple one a list of its current
   * names (to remove or reorder). Uploads replace a single field's file and join a multiple one's.
   */
  plan(collection: CollectionDef, body: Record<string, unknown>, existing: ApiRecord | undefined, uploads: readonly StoredUpload[]): FilePlan {
    const plan: FilePlan = { values: {}, errors: [], added: [], removed: [] };
    const fileFields = new Set(collection.fields.filter((f) => f.type === 'file').map((f) => f.name));
    for (const upload of uploads) {
      if (!fileFields.has(upload.field)) plan.errors.push({ field: upload.field, code: 'unknown_field', message: `is not a file field of ${collection.name}` });
    }
    for (const field of collection.fields) {
      if (field.type !== 'file') continue;
      this.planField(field, body, existing, uploads.filter((u) => u.field === field.name), plan);
    }
    return plan;
  }

  private planField(field: FieldDef, body: Record<string, unknown>, existing: ApiRecord | undefined, uploads: StoredUpload[], plan: FilePlan): void {
    const given = Object.prototype.hasOwnProperty.call(body, field.name);
    if (!given && uploads.length === 0 && existing) return;
    const current = existing ? namesOf(existing[field.name]) : [];
    const error = (code: string, message: string) => void plan.errors.push({ field: field.name, code, message });
    let next: string[];
    if (isMultiValue(field)) {
      let kept = current;
      if (given) {
        const value = body[field.name];
        if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) return error('invalid_value', 'must be a list of this record\'s current file names (new files are uploaded)');
        const unknown = (value as string[]).find((v) => !current.includes(v));
        if (unknown !== undefined) return error('unknown_file', `"${unknown.slice(0, 100)}" is not one of this record's files`);
        kept = [...new Set(value as string[])];
      }
      next = [...kept, ...uploads.map((u) => u.name)];
      if (next.length > MAX_FILES_PER_FIELD) return error('too_many', `holds at most ${MAX_FILES_PER_FIELD} files`);
      plan.values[field.name] = next;
    } else {
      if (uploads.length > 1) return error('too_many', 'takes one file');
      if (uploads.length === 1) {
        if (given && body[field.name] !== null) return error('invalid_value', 'give either a file or a value, not both');
        next = [uploads[0]!.name];
      } else if (given) {
        const value = body[field.name];
        if (value !== null && !(typeof value === 'string' && current.includes(value))) return error('invalid_value', 'files are uploaded (multipart or tus); null removes the file');
        next = value === null ? [] : current;
      } else next = [];
      plan.values[field.name] = next[0] ?? null;
    }
    if (field.required && next.length === 0) return error('required', 'needs a file');
    plan.removed.push(...current.filter((name) => !next.includes(name)));
    plan.added.push(...uploads);
  }

  /** Records what `plan` did, inside the record's transaction (after its row was written). */
  async writeIn(tx: Transaction, collection: CollectionDef, recordId: string, caller: Caller, plan: FilePlan): Promise<void> {
    const now = new Date().toISOString();
    for (const upload of plan.added) {
      const p = new SqlParams(tx.dialect);
      const id = crypto.randomUUID();
      await tx.run(
        `INSERT INTO "_files" ("id", "collection", "record_id", "field", "name", "key", "original_name", "size", "sha256", "type", "uploader", "thumbs", "created")
         VALUES (${[id, collection.name, recordId, upload.field, upload.name, upload.key, upload.originalName, upload.size, upload.sha256, upload.type, caller.user?.id ?? null, '{}', now].map((v) => p.add(v)).join(', ')})`,
        p.values,
      );
      const field = collection.fields.find((f) => f.name === upload.field);
      if (field?.thumbs?.length && canThumbnail(upload.type)) await this.jobs.enqueueIn(tx, JOB_THUMBNAILS, { fileId: id });
    }
    if (plan.removed.length) await this.forgetIn(tx, { collection: collection.name, recordId, names: plan.removed });
  }

  /** A record is being deleted: its files go once the delete commits. */
  async deletedIn(tx: Transaction, collection: CollectionDef, recordId: string): Promise<void> {
    if (!collection.fields.some((f) => f.type === 'file')) return;
    await this.forgetIn(tx, { collection: collection.name, recordId });
  }

  /** A deleted collection's files go once the delete commits. */
  async collectionDeletedIn(tx: Transaction, def: CollectionDef): Promise<void> {
    await this.forgetIn(tx, { collection: def.name });
  }

  /**
   * A changed definition: `_files` rows follow a renamed collection or file field (their objects
   * keep their keys), and the files of a dropped file field — or one that is no longer a file
   * field — go once the change commits.
   */
  async collectionUpdatedIn(tx: Transaction, before: CollectionDef, after: CollectionDef): Promise<void> {
    const update = async (set: Record<string, string>, where: Record<string, string>) => {
      const p = new SqlParams(tx.dialect);
      const assign = Object.entries(set).map(([column, value]) => `"${column}" = ${p.add(value)}`).join(', ');
      const match = Object.entries(where).map(([column, value]) => `"${column}" = ${p.add(value)}`).join(' AND ');
      await tx.run(`UPDATE "_files" SET ${assign} WHERE ${match}`, p.values);
    };
    if (after.name !== before.name) await update({ collection: after.name }, { collection: before.name });
    const renamed: { from: string; to: string; parked: string }[] = [];
    for (const field of before.fields) {
      if (field.type !== 'file') continue;
      const next = after.fields.find((f) => f.id === field.id);
      if (!next || next.type !== 'file') await this.forgetIn(tx, { collection: after.name, field: field.name });
      else if (next.name !== field.name) renamed.push({ from: field.name, to: next.name, parked: `#${field.id}` });
    }
    // Two steps through a name no field can have, so fields that swap names (a → b, b → a) stay apart.
    for (const r of renamed) await update({ field: r.parked }, { collection: after.name, field: r.from });
    for (const r of renamed) await update({ field: r.to }, { collection: after.name, field: r.parked });
  }

  /** Drops `_files` rows (a collection's, a field's, a record's or the named ones) and queues the removal of their objects. */
  private async forgetIn(tx: Transaction, which: { collection: string; field?: string; recordId?: string; names?: string[] }): Promise<void> {
    const p = new SqlParams(tx.dialect);
    let where = `"collection" = ${p.add(which.collection)}`;
    if (which.field !== undefined) where += ` AND "field" = ${p.add(which.field)}`;
    if (which.recordId !== undefined) where += ` AND "record_id" = ${p.add(which.recordId)}`;
    if (which.names) where += ` AND "name" IN (${which.names.map((n) => p.add(n)).join(', ')})`;
    // RETURNING reads the rows as deleted: a thumbnail job that recorded its work a moment ago is
    // seen, and one that records it later finds no row and removes its own thumbnails.
    const rows = (await tx.all(`DELETE FROM "_files" WHERE ${where} RETURNING *`, p.values)).map(fileRow);
    const keys = rows.flatMap((r) => [r.key, ...Object.keys(r.thumbs).map((size) => thumbnailKey(r.key, size))]);
    // A whole collection can hold many files: one job per slice keeps payloads and retries small.
    for (let i = 0; i < keys.length; i += DELETE_JOB_KEYS) await this.jobs.enqueueIn(tx, JOB_DELETE, { keys: keys.slice(i, i + DELETE_JOB_KEYS) });
  }

  async find(collection: string, recordId: string, name: string, via: Queryable = this.db): Promise<FileRow | undefined> {
    const p = new SqlParams(via.dialect);
    const row = await via.get(`SELECT * FROM "_files" WHERE "collection" = ${p.add(collection)} AND "record_id" = ${p.add(recordId)} AND "name" = ${p.add(name)}`, p.values);
    return row ? fileRow(row) : undefined;
  }

  private async discardUnreferenced(keys: string[]): Promise<void> {
    for (const key of keys) {
      const p = new SqlParams(this.db.dialect);
      const row = await this.db.get(`SELECT 1 AS x FROM "_files" WHERE "key" = ${p.add(key)}`, p.values);
      if (!row) await this.storage.delete(key);
    }
  }

  /** The thumbnail job: makes the field's declared sizes that are not made yet. */
  private async makeThumbnails(fileId: string): Promise<void> {
    const p = new SqlParams(this.db.dialect);
    const row = await this.db.get(`SELECT * FROM "_files" WHERE "id" = ${p.add(fileId)}`, p.values);
    if (!row) return;
    const file = fileRow(row);
    const field = this.collections.get(file.collection)?.fields.find((f) => f.name === file.field);
    const sizes = (field?.thumbs ?? []).filter((size) => !(size in file.thumbs));
    if (sizes.length === 0) return;
    // The file may be replaced or its record deleted while this runs (its original gone midway):
    // then whatever was made goes too, and the job is done.
    const dropThumbs = async () => {
      for (const size of sizes) await this.storage.delete(thumbnailKey(file.key, size));
    };
    let made: Record<string, ThumbState>;
    try {
      made = await makeThumbnails(this.storage, file.key, file.type, sizes, this.stagingDir);
    } catch (err) {
      if (await this.find(file.collection, file.recordId, file.name)) throw err;
      return dropThumbs();
    }
    const update = new SqlParams(this.db.dialect);
    const thumbs = JSON.stringify({ ...file.thumbs, ...made });
    const changed = await this.db.run(`UPDATE "_files" SET "thumbs" = ${update.add(thumbs)} WHERE "id" = ${update.add(fileId)}`, update.values);
    if (changed.changes === 0) await dropThumbs();
  }
}
