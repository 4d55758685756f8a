// Staging: an incoming multipart file part is streamed to a temporary file on local disk while it
// is counted, hashed and sniffed. Past the field's size it stops at once (413); a type the field
// does not allow stops it as soon as the first bytes tell (415). Nothing is held in memory but the
// first few kilobytes. A finished resumable upload is already in storage: it is checked from its
// size and first bytes instead and never copied here (core/uploads.ts).

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiError } from './api-error.ts';
import type { FieldDef } from './collection-model.ts';
import { cleanOriginalName } from './file-names.ts';
import { SNIFF_BYTES, sniffType, type SniffedType } from './file-sniff.ts';

/** Without a `maxSize`, a file field takes files up to this size. */
export const DEFAULT_MAX_FILE_SIZE = 5 * 1024 * 1024;

/** A file checked against its field (size, sniffed type) and ready to be stored. */
export interface StagedFile {
  field: string;
  originalName: string;
  /** The temporary file holding the bytes, removed by whoever staged it; none for a tus upload. */
  path?: string;
  size: number;
  /** Known when staged; a tus upload's is computed on its way into storage (FileService.store). */
  sha256?: string;
  type: string;
  ext: string;
  /** Streams the bytes, from the start. */
  open(): Readable;
}

export function maxFileSize(field: FieldDef): number {
  return field.maxSize ?? DEFAULT_MAX_FILE_SIZE;
}

/** The field's list of allowed types, checked against what the content is; absent: any type. */
export function checkAllowedType(field: FieldDef, sniffed: SniffedType): void {
  if (field.mimeTypes && !field.mimeTypes.includes(sniffed.type)) {
    throw new ApiError('unsupported_media_type', `${field.name}: the content is ${sniffed.type}, which this field does not accept (${field.mimeTypes.join(', ')})`, [
      { field: field.name, code: 'type_not_allowed', message: `must be one of ${field.mimeTypes.join(', ')}` },
    ]);
  }
}

export function emptyFile(field: FieldDef): ApiError {
  return ApiError.validation([{ field: field.name, code: 'empty_file', message: 'the file is empty' }]);
}

export function tooLarge(field: FieldDef): ApiError {
  // Connection: close — the rest of the body is never read, so the connection cannot be reused.
  return new ApiError('payload_too_large', `${field.name}: the file is larger than ${maxFileSize(field)} bytes`, [
    { field: field.name, code: 'too_large', message: `must be at most ${maxFileSize(field)} bytes` },
  ], { headers: { connection: 'close' } });
}

/** Passes bytes through unchanged, counting them and hashing them (SHA-256) on the way. */
export class DigestStream extends Transform {
  size = 0;
  readonly hash = crypto.createHash('sha256');

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.digest(chunk);
    done(null, chunk);
  }

  protected digest(chunk: Buffer): void {
    this.size += chunk.length;
    this.hash.update(chunk);
  }
}

/** A DigestStream that also enforces the field's size limit and decides the type from the first bytes. */
class Inspector extends DigestStream {
  sniffed: SniffedType | undefined;
  #head: Buffer[] = [];
  #headLength = 0;

  constructor(private readonly field: FieldDef) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.digest(chunk);
    if (this.size > maxFileSize(this.field)) return done(tooLarge(this.field));
    if (this.sniffed || this.#headLength >= SNIFF_BYTES) return done(null, chunk);
    this.#head.push(chunk);
    this.#headLength += chunk.length;
    if (this.#headLength < SNIFF_BYTES) return done(null, chunk);
    this.decide(false).then(() => done(null, chunk), done);
  }

  override _flush(done: TransformCallback): void {
    if (this.sniffed) return done();
    this.decide(true).then(() => done(), done);
  }

  private async decide(complete: boolean): Promise<void> {
    const head = Buffer.concat(this.#head).subarray(0, SNIFF_BYTES);
    this.#head = [];
    this.sniffed = await sniffType(head, complete && this.#headLength <= SNIFF_BYTES);
    checkAllowedType(this.field, this.sniffed);
  }
}

/** Streams `source` into a new file in `dir`; on any failure the partial file is removed. */
export async function stageFile(source: Readable, dir: string, field: FieldDef, originalName: string | undefined): Promise<StagedFile> {
  const file = path.join(dir, `${crypto.randomUUID()}.part`);
  const inspector = new Inspector(field);
  try {
    await pipeline(source, inspector, fs.createWriteStream(file, { mode: 0o600 }));
    if (inspector.size === 0) throw emptyFile(field);
    return {
      field: field.name,
      originalName: cleanOriginalName(originalName),
      path: file,
      open: () => fs.createReadStream(file),
      size: inspector.size,
      sha256: inspector.hash.digest('hex'),
      type: inspector.sniffed!.type,
      ext: inspector.sniffed!.ext,
    };
  } catch (err) {
    await fs.promises.rm(file, { force: true });
    throw err;
  }
}

/** Removes staged files (after they were stored, or when the request failed). */
export async function removeStaged(files: readonly StagedFile[]): Promise<void> {
  await Promise.all(files.map((f) => (f.path === undefined ? undefined : fs.promises.rm(f.path, { force: true }))));
}
