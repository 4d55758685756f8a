// Thumbnails with sharp, made by a background job (never on the request path) for the sizes a
// field declares: `WxH` crops to fill, `0xH` / `Wx0` keep the aspect ratio, `WxHf` fits inside.
// A pixel limit refuses decompression bombs before they are decoded; such a file keeps serving
// its original, and its thumbnail is marked as failed rather than retried forever.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import sharp, { type ResizeOptions } from 'sharp';
import type { Storage } from '../storage/storage.ts';

/** Images larger than this many pixels (~40 megapixels, e.g. 8000×5000) are not decoded. */
export const THUMBNAIL_PIXEL_LIMIT = 40_000_000;

export type ThumbState = 'ready' | 'failed';

// One image at a time per process, and no decoded-image cache: thumbnails are background work
// and must not take the memory requests need.
sharp.concurrency(1);
sharp.cache(false);

const THUMBNAILABLE = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/gif', 'image/avif', 'image/tiff']);

export function canThumbnail(type: string): boolean {
  return THUMBNAILABLE.has(type);
}

/** Thumbnails keep JPEG and WebP; everything else becomes PNG (one frame of a GIF). */
export function thumbnailType(type: string): string {
  return type === 'image/jpeg' || type === 'image/webp' ? type : 'image/png';
}

export const THUMB_SIZE_PATTERN = /^(\d{1,4})x(\d{1,4})(f?)$/;

export function thumbnailKey(key: string, size: string): string {
  const slash = key.lastIndexOf('/');
  return `${key.slice(0, slash)}/thumbs/${size}/${key.slice(slash + 1)}`;
}

function resizeOptions(size: string): ResizeOptions {
  const [, w, h, f] = THUMB_SIZE_PATTERN.exec(size)!;
  const width = Number(w) || undefined;
  const height = Number(h) || undefined;
  const fit = width && height ? (f ? 'inside' : 'cover') : 'inside';
  return { width, height, fit, withoutEnlargement: true };
}

function isPixelLimit(err: unknown): boolean {
  return err instanceof Error && /pixel limit|exceeds/i.test(err.message);
}

/** Makes each size from the stored original; returns which were made and which the image refused. */
export async function makeThumbnails(storage: Storage, key: string, type: string, sizes: string[], workDir: string): Promise<Record<string, ThumbState>> {
  const result: Record<string, ThumbState> = {};
  const format = thumbnailType(type) === 'image/jpeg' ? 'jpeg' : thumbnailType(type) === 'image/webp' ? 'webp' : 'png';
  for (const size of sizes) {
    const out = path.join(workDir, `${crypto.randomUUID()}.thumb`);
    try {
      const image = sharp({ limitInputPixels: THUMBNAIL_PIXEL_LIMIT, failOn: 'error' }).rotate().resize(resizeOptions(size)).toFormat(format);
      await pipeline(await storage.get(key), image, fs.createWriteStream(out, { mode: 0o600 }));
      const { size: bytes } = await fs.promises.stat(out);
      await storage.put(thumbnailKey(key, size), fs.createReadStream(out), bytes);
      result[size] = 'ready';
    } catch (err) {
      // An image refused by the pixel limit (or not decodable) will never do better: remember that.
      if (isPixelLimit(err) || (err instanceof Error && /unsupported image format|corrupt|bad seek|premature end/i.test(err.message))) result[size] = 'failed';
      else throw err;
    } finally {
      await fs.promises.rm(out, { force: true });
    }
  }
  return result;
}
