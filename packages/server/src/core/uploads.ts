// Resumable uploads (tus 1.0, served by http/routes/uploads.ts): each upload has an `_uploads` row
// naming its owner, and its bytes are parts in the Storage port (core/upload-store.ts), whatever
// instance received them. A finished upload is attached to a record with
// `{"field": {"upload": "<id>"}}`: its size and sniffed type are checked against the field as a
// multipart file's are, then its parts are streamed straight into the file's object (hashed on the
// way, no copy in staging), and it is removed from the upload store. Uploads not attached in time
// are removed by a periodic job.
//
// Parts in our own table rather than @tus/s3-store keep one code path for both back ends that can
// be tested for real here (s3rver has no ListParts).

import type { FieldError } from '@galley/protocol';
import { ApiError } from './api-error.ts';
import type { Caller } from './caller.ts';
import { isMultiValue, type CollectionDef, type FieldDef } from './collection-model.ts';
import { cleanOriginalName } from './file-names.ts';
import { SNIFF_BYTES, sniffType } from './file-sniff.ts';
import { checkAllowedType, emptyFile, maxFileSize, tooLarge, type StagedFile } from './file-staging.ts';
import type { JobQueue } from './jobs.ts';
import { StorageUploadStore } from './upload-store.ts';
import { SqlParams, type Database } from '../db/database.ts';
import type { Storage } from '../storage/storage.ts';

export const JOB_EXPIRE_UPLOADS = 'uploads.expire';
const UPLOAD_ID = /^[a-f0-9]{32}$/;

export interface UploadRow {
  id: string;
  owner: string | null;
  size: number;
  filename: string;
  completed: boolean;
}

/** A `{"upload": "<id>"}` value found in a record body. */
export interface UploadRef {
  field: FieldDef;
  id: string;
}

function isRef(value: unknown): value is { upload: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'upload' in value;
}

/**
 * Takes the `{"upload": id}` values out of a body's file fields (in place), so the rest of the
 * body is what the record service already understands: a single field's upload replaces its
 * file; in a multiple field's list, uploads join the names kept.
 */
export function takeUploadRefs(collection: CollectionDef, body: Record<string, unknown>): { refs: UploadRef[]; errors: FieldError[] } {
  const refs: UploadRef[] = [];
  const errors: FieldError[] = [];
  for (const field of collection.fields) {
    if (field.type !== 'file' || !Object.prototype.hasOwnProperty.call(body, field.name)) continue;
    const value = body[field.name];
    const take = (v: unknown): boolean => {
      if (!isRef(v)) return false;
      if (typeof v.upload !== 'string' || !UPLOAD_ID.test(v.upload) || Object.keys(v).length !== 1) {
        errors.push({ field: field.name, code: 'invalid_value', message: '{"upload": id} needs the id of a finished upload' });
      } else refs.push({ field, id: v.upload });
      return true;
    };
    if (isMultiValue(field) && Array.isArray(value)) body[field.name] = value.filter((v) => !take(v));
    else if (take(value)) delete body[field.name];
  }
  return { refs, errors };
}

export class UploadService {
  readonly store: StorageUploadStore;

  /** `stagingDir` receives each request's bytes while they arrive (it must exist). */
  constructor(
    private readonly db: Database,
    jobs: JobQueue,
    storage: Storage,
    stagingDir: string,
    readonly expiryMs: number,
  ) {
    this.store = new StorageUploadStore(db, storage, stagingDir, expiryMs);
    jobs.registerPeriodic(JOB_EXPIRE_UPLOADS, Math.min(expiryMs / 4, 60 * 60 * 1000), async () => void (await this.expire()));
  }

  async created(id: string, owner: string | null, size: number, filename: string): Promise<void> {
    const now = Date.now();
    const p = new SqlParams(this.db.dialect);
    await this.db.run(
      `INSERT INTO "_uploads" ("id", "owner", "size", "filename", "created", "expires") VALUES (${[id, owner, size, filename, new Date(now).toISOString(), new Date(now + this.expiryMs).toISOString()].map((v) => p.add(v)).join(', ')})`,
      p.values,
    );
  }

  async finished(id: string): Promise<void> {
    const p = new SqlParams(this.db.dialect);
    await this.db.run(`UPDATE "_uploads" SET "completed" = ${p.add(new Date().toISOString())} WHERE "id" = ${p.add(id)}`, p.values);
  }

  async find(id: string): Promise<UploadRow | undefined> {
    if (!UPLOAD_ID.test(id)) return undefined;
    const p = new SqlParams(this.db.dialect);
    const row = await this.db.get<Record<string, unknown>>(`SELECT * FROM "_uploads" WHERE "id" = ${p.add(id)}`, p.values);
    if (!row) return undefined;
    return { id: String(row.id), owner: (row.owner as string | null) ?? null, size: Number(row.size), filename: String(row.filename), completed: row.completed !== null && row.completed !== undefined };
  }

  /** Whether `caller` may touch the upload: only its owner (anonymous uploads are not taken). */
  mayUse(row: UploadRow, caller: Caller): boolean {
    return row.owner !== null && row.owner === caller.user?.id;
  }

  /**
   * The finished uploads a body refers to, checked against their fields (all or none) from their
   * size and first bytes. Nothing is copied: storing one streams its parts (FileService.store).
   */
  async stage(caller: Caller, refs: readonly UploadRef[]): Promise<StagedFile[]> {
    const staged: StagedFile[] = [];
    for (const ref of refs) {
      const row = await this.find(ref.id);
      if (!row || !this.mayUse(row, caller)) {
        throw ApiError.validation([{ field: ref.field.name, code: 'unknown_upload', message: 'no upload of yours has this id (it may have expired)' }]);
      }
      if (!row.completed) throw ApiError.validation([{ field: ref.field.name, code: 'upload_incomplete', message: 'the upload has not finished' }]);
      staged.push(await this.check(row, ref.field));
    }
    return staged;
  }

  /** A finished upload checked as stageFile checks a multipart file: size, then sniffed type. */
  private async check(row: UploadRow, field: FieldDef): Promise<StagedFile> {
    if (row.size > maxFileSize(field)) throw tooLarge(field);
    if (row.size === 0) throw emptyFile(field);
    const sniffed = await sniffType(await this.store.head(row.id, SNIFF_BYTES), row.size <= SNIFF_BYTES);
    checkAllowedType(field, sniffed);
    return {
      field: field.name,
      originalName: cleanOriginalName(row.filename),
      size: row.size,
      type: sniffed.type,
      ext: sniffed.ext,
      open: () => this.store.read(row.id),
    };
  }

  /** Removes uploads (attached, terminated or expired): their rows and their parts. */
  async remove(ids: readonly string[]): Promise<void> {
    for (const id of ids) await this.store.remove(id);
  }

  /** The periodic job: uploads past their expiry are removed. */
  async expire(now = Date.now()): Promise<number> {
    const p = new SqlParams(this.db.dialect);
    const rows = await this.db.all<{ id: string }>(`SELECT "id" FROM "_uploads" WHERE "expires" < ${p.add(new Date(now).toISOString())} LIMIT 1000`, p.values);
    await this.remove(rows.map((r) => r.id));
    return rows.length;
  }
}
