// The tus data store behind /api/v1/uploads: each PATCH's bytes become one part object in the
// Storage port (`_uploads/<id>/<offset>-<random>`, local folder or S3) and one `_upload_parts` row, and an
// upload's offset is the sum of its parts. Nothing lives on one instance's disk for longer than a
// request, so with several instances any of them takes the next PATCH of an upload, HEAD on any
// of them tells the same offset, and the finished file is read back as its parts in order.
//
// A PATCH is received into the staging folder and stored as parts of at most `partBytes` (a
// 500 MB PATCH is several parts, so staging never holds more than one part of any request), and
// what arrived is stored also when the client stops midway, so a resumed upload continues from
// the last byte that arrived. Two PATCHes
// racing for one offset (two instances, no shared lock) are told apart by the parts' primary key:
// the loser's bytes are dropped and it answers 409, as tus does for a stale offset.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { DataStore, ERRORS, Upload } from '@tus/server';
import { SqlParams, type Database } from '../db/database.ts';
import type { Storage } from '../storage/storage.ts';

interface PartRow {
  offset: number;
  size: number;
  key: string;
}

/** 64 MiB: few enough parts for a large file, little enough staging disk per request. */
export const DEFAULT_PART_BYTES = 64 * 1024 * 1024;

/** The staging file of the part being received. */
interface StagedPart {
  file: string;
  stream: fs.WriteStream;
  size: number;
  error?: unknown;
}

export class StorageUploadStore extends DataStore {
  constructor(
    private readonly db: Database,
    private readonly storage: Storage,
    private readonly stagingDir: string,
    private readonly expiryMs: number,
    private readonly partBytes = DEFAULT_PART_BYTES,
  ) {
    super();
    // Expiry is the periodic job of core/uploads.ts, over the `_uploads` rows.
    this.extensions = ['creation', 'creation-with-upload', 'termination', 'expiration'];
  }

  /** The `_uploads` row is written by the creation hook just before; the metadata joins it. */
  override async create(upload: Upload): Promise<Upload> {
    const p = new SqlParams(this.db.dialect);
    await this.db.run(`UPDATE "_uploads" SET "metadata" = ${p.add(JSON.stringify(upload.metadata ?? {}))} WHERE "id" = ${p.add(upload.id)}`, p.values);
    return upload;
  }

  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    let stored = 0;
    let part: StagedPart | undefined;
    /** Stores the staged part (if it holds anything) at the next offset, and deletes its file. */
    const keep = async () => {
      if (!part) return;
      const staged = part;
      part = undefined;
      try {
        staged.stream.end();
        await finished(staged.stream);
        if (staged.size > 0) await this.keepPart(id, offset + stored, staged.file, staged.size);
        stored += staged.size;
      } finally {
        await fs.promises.rm(staged.file, { force: true });
      }
    };
    const chunks = (readable as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    let interrupted = false;
    try {
      for (;;) {
        let next: IteratorResult<Buffer>;
        try {
          next = await chunks.next();
        } catch {
          // The client went away: what arrived is still kept below.
          interrupted = true;
          break;
        }
        if (next.done) break;
        part ??= this.stage();
        part.size += next.value.length;
        if (!part.stream.write(next.value)) await once(part.stream, 'drain');
        if (part.error) throw part.error;
        // A stale offset (409) or a storage failure ends the request here, as it would at the end.
        if (part.size >= this.partBytes) await keep();
      }
      await keep();
    } catch (err) {
      readable.destroy();
      if (part) await fs.promises.rm(part.file, { force: true });
      throw err;
    }
    if (interrupted) throw ERRORS.FILE_WRITE_ERROR;
    return offset + stored;
  }

  private stage(): StagedPart {
    const file = path.join(this.stagingDir, `upload-${crypto.randomBytes(8).toString('hex')}`);
    const staged: StagedPart = { file, stream: fs.createWriteStream(file, { mode: 0o600 }), size: 0 };
    staged.stream.on('error', (err) => (staged.error = err));
    return staged;
  }

  private async keepPart(id: string, offset: number, file: string, size: number): Promise<void> {
    const key = `_uploads/${id}/${offset}-${crypto.randomBytes(4).toString('hex')}`;
    await this.storage.put(key, fs.createReadStream(file), size);
    const p = new SqlParams(this.db.dialect);
    try {
      await this.db.run(`INSERT INTO "_upload_parts" ("upload_id", "offset", "size", "key") VALUES (${[id, offset, size, key].map((v) => p.add(v)).join(', ')})`, p.values);
    } catch (err) {
      await this.storage.delete(key).catch(() => {});
      // Another request stored this offset first: this one is stale.
      if (await this.partAt(id, offset)) throw ERRORS.INVALID_OFFSET;
      throw err;
    }
  }

  private async partAt(id: string, offset: number): Promise<boolean> {
    const p = new SqlParams(this.db.dialect);
    return (await this.db.get(`SELECT 1 AS x FROM "_upload_parts" WHERE "upload_id" = ${p.add(id)} AND "offset" = ${p.add(offset)}`, p.values)) !== undefined;
  }

  private async parts(id: string): Promise<PartRow[]> {
    const p = new SqlParams(this.db.dialect);
    const rows = await this.db.all<Record<string, unknown>>(`SELECT "offset", "size", "key" FROM "_upload_parts" WHERE "upload_id" = ${p.add(id)} ORDER BY "offset"`, p.values);
    return rows.map((r) => ({ offset: Number(r.offset), size: Number(r.size), key: String(r.key) }));
  }

  override async getUpload(id: string): Promise<Upload> {
    const p = new SqlParams(this.db.dialect);
    const row = await this.db.get<Record<string, unknown>>(`SELECT "size", "metadata", "created" FROM "_uploads" WHERE "id" = ${p.add(id)}`, p.values);
    if (!row) throw ERRORS.FILE_NOT_FOUND;
    const offset = (await this.parts(id)).reduce((sum, part) => sum + part.size, 0);
    const created = row.created instanceof Date ? row.created.toISOString() : String(row.created);
    const metadata = typeof row.metadata === 'string' ? (JSON.parse(row.metadata) as Record<string, string | null>) : {};
    return new Upload({ id, size: Number(row.size), offset, metadata, creation_date: created });
  }

  /** The upload's bytes, its parts one after the other. */
  read(id: string): Readable {
    const { storage } = this;
    const parts = () => this.parts(id);
    return Readable.from(
      (async function* () {
        for (const part of await parts()) yield* await storage.get(part.key);
      })(),
    );
  }

  /** The upload's first `bytes` bytes (fewer if it is shorter), read as ranges of its first parts. */
  async head(id: string, bytes: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let length = 0;
    for (const part of await this.parts(id)) {
      if (length >= bytes) break;
      const end = Math.min(part.size, bytes - length) - 1;
      if (end < 0) continue;
      for await (const chunk of await this.storage.get(part.key, { start: 0, end })) {
        chunks.push(chunk as Buffer);
        length += (chunk as Buffer).length;
      }
    }
    return Buffer.concat(chunks, length).subarray(0, bytes);
  }

  /**
   * Removes the upload: its row first, so a HEAD right after a termination is already 404, then
   * its parts (objects, then rows). Removing one that is gone is not an error.
   */
  override async remove(id: string): Promise<void> {
    const u = new SqlParams(this.db.dialect);
    await this.db.run(`DELETE FROM "_uploads" WHERE "id" = ${u.add(id)}`, u.values);
    for (const part of await this.parts(id)) await this.storage.delete(part.key);
    const p = new SqlParams(this.db.dialect);
    await this.db.run(`DELETE FROM "_upload_parts" WHERE "upload_id" = ${p.add(id)}`, p.values);
  }

  override async declareUploadLength(): Promise<void> {
    // Creation refuses deferred lengths (http/routes/uploads.ts), so no upload ever gets here.
    throw ERRORS.UNSUPPORTED_CREATION_DEFER_LENGTH_EXTENSION;
  }

  override async deleteExpired(): Promise<number> {
    return 0;
  }

  override getExpiration(): number {
    return this.expiryMs;
  }
}
