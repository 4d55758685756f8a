// Storage in a local folder (the default: `<data dir>/storage`). Objects are written to a
// temporary file beside their place and renamed into it, so readers never see half a file.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { checkKey, StorageNotFoundError, type ByteRange, type ObjectInfo, type Storage } from './storage.ts';

const TEMP_DIR = '.partial';

export class LocalStorage implements Storage {
  readonly kind = 'local';

  constructor(private readonly root: string) {
    fs.mkdirSync(path.join(root, TEMP_DIR), { recursive: true, mode: 0o700 });
  }

  private file(key: string): string {
    return path.join(this.root, ...checkKey(key).split('/'));
  }

  async put(key: string, body: Readable, size: number): Promise<void> {
    const target = this.file(key);
    const temp = path.join(this.root, TEMP_DIR, crypto.randomUUID());
    let written = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        written += chunk.length;
        done(written > size ? new Error(`the stream is longer than the ${size} bytes announced`) : null, chunk);
      },
    });
    try {
      await pipeline(body, count, fs.createWriteStream(temp, { mode: 0o600 }));
      if (written !== size) throw new Error(`the stream ended after ${written} of ${size} bytes`);
      await fs.promises.mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
      await fs.promises.rename(temp, target);
    } catch (err) {
      await fs.promises.rm(temp, { force: true });
      await fs.promises.rm(target, { force: true });
      throw err;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const file = this.file(key);
    // Open first, so a missing file is an error here rather than later on the stream.
    const handle = await fs.promises.open(file, 'r').catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' || err.code === 'ENOTDIR' ? new StorageNotFoundError(key) : err;
    });
    return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    try {
      const stat = await fs.promises.stat(this.file(key));
      return stat.isFile() ? { size: stat.size } : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.file(key);
    await fs.promises.rm(file, { force: true });
    // Drop folders left empty (a record's folder once its last file is gone), up to the root.
    for (let dir = path.dirname(file); dir.length > this.root.length && dir.startsWith(this.root); dir = path.dirname(dir)) {
      try {
        await fs.promises.rmdir(dir);
      } catch {
        break;
      }
    }
  }

  async close(): Promise<void> {}
}
