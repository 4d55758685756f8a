// Helpers for the file suites: real images made with sharp, hand-built multipart bodies (for the
// hostile ones FormData cannot express), and waiting for background jobs.

import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';

export async function pngImage(width: number, height: number, colour = '#d04020'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: colour } }).png().toBuffer();
}

/**
 * Random bytes that sniff as no known type (application/octet-stream). Plain random bytes do not
 * always: about one time in a few thousand they begin like an MPEG audio frame (0xFF 0xE…) and are
 * stored as `.mp1`. A fixed first 8 bytes, the start of no format file-type knows, rules that out.
 */
export function opaqueBytes(size: number): Buffer {
  const data = crypto.randomBytes(size);
  Buffer.from('\x00\x01gly\x02\x03\x04', 'latin1').copy(data, 0, 0, Math.min(8, size));
  return data;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A tiny PNG that claims `width`×`height` pixels: a decompression bomb as far as a decoder can tell. */
export function pngBomb(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale
  const rows = zlib.deflateSync(Buffer.alloc(width + 1)); // one row of zeros; the rest is "to come"
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', rows), pngChunk('IEND', Buffer.alloc(0))]);
}

export interface RawPart {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer | string;
}

/** A multipart/form-data body built byte by byte, names and all, exactly as given. */
export function multipartBody(parts: RawPart[], boundary = 'galleyboundary7MA4YWxkTrZu0gW'): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"`;
    if (part.filename !== undefined) head += `; filename="${part.filename}"`;
    head += '\r\n';
    if (part.contentType) head += `Content-Type: ${part.contentType}\r\n`;
    chunks.push(Buffer.from(`${head}\r\n`, 'utf8'), Buffer.isBuffer(part.data) ? part.data : Buffer.from(part.data), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

export async function waitFor(condition: () => boolean | Promise<boolean>, what: string | (() => string), ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(20);
  }
}
