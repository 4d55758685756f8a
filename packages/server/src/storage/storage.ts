// The Storage port: where file bytes live. Core code streams in and out through these few
// operations and never knows whether a folder or an S3 bucket is behind them.

import type { Readable } from 'node:stream';

/** A byte range, both ends inclusive (as in an HTTP `Range` header). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface ObjectInfo {
  size: number;
}

export interface PresignOptions {
  /** Seconds the URL stays valid. */
  expiresIn: number;
  contentType: string;
  contentDisposition: string;
}

export interface Storage {
  readonly kind: 'local' | 's3';
  /**
   * Stores `size` bytes read from `body` under `key`. The object appears whole or not at all: after
   * a failed or short stream there is no object under `key`. (Galley never reuses a key: stored
   * names are random, so a put never has an older object to keep.)
   */
  put(key: string, body: Readable, size: number): Promise<void>;
  /** Streams the object (or one range of it); throws StorageNotFoundError when there is none. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** The object's size, or undefined when there is none. */
  stat(key: string): Promise<ObjectInfo | undefined>;
  /** Removes the object; removing one that does not exist is not an error. */
  delete(key: string): Promise<void>;
  /** A URL that serves the object directly for a while; only S3 offers this. */
  presignGet?(key: string, options: PresignOptions): Promise<string>;
  close(): Promise<void>;
}

export class StorageNotFoundError extends Error {
  constructor(readonly key: string) {
    super('no stored object under that key');
    this.name = 'StorageNotFoundError';
  }
}

/** The storage back end did not answer or failed: worth a retry later (503). */
export class StorageUnavailableError extends Error {
  constructor(readonly reason: string, options?: { cause?: unknown }) {
    super(`storage unavailable: ${reason}`, options);
    this.name = 'StorageUnavailableError';
  }
}

// Keys are made by the server (collection/record/stored-name), never taken from a client as they
// are; checking them here anyway means no adapter can be steered outside its root.
const KEY = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]{0,199})(?:\/[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}){0,7}$/;

export function checkKey(key: string): string {
  if (!KEY.test(key) || key.split('/').some((part) => part === '.' || part === '..')) {
    throw new Error(`invalid storage key: ${JSON.stringify(key.slice(0, 100))}`);
  }
  return key;
}
