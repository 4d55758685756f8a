// Storage in an S3 bucket (AWS or any S3-compatible server), selected by
// `STORAGE_URL=s3://BUCKET?endpoint=…&region=…&forcePathStyle=true`. Objects are single PUTs
// with their length known up front (uploads are staged first), so nothing is buffered here.

import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { checkKey, StorageNotFoundError, StorageUnavailableError, type ByteRange, type ObjectInfo, type PresignOptions, type Storage } from './storage.ts';

export interface S3StorageOptions {
  bucket: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  /** Absent: the SDK's default chain (instance roles, profiles). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Serve downloads by redirecting to a presigned URL instead of streaming them through Galley. */
  presign: boolean;
}

/** S3's own answer for "no such object" (GET says NoSuchKey, HEAD only has a status). */
function isNotFound(err: unknown): boolean {
  return err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata.httpStatusCode === 404);
}

/** Anything but a client-side fault (our request was wrong) is the service being unavailable. */
function translate(err: unknown): unknown {
  if (err instanceof S3ServiceException && err.$fault === 'client') return err;
  if (err instanceof StorageNotFoundError) return err;
  const reason = err instanceof Error ? err.name : 'unknown error';
  return new StorageUnavailableError(reason, { cause: err });
}

export class S3Storage implements Storage {
  readonly kind = 's3';
  readonly client: S3Client;
  readonly presignGet?: (key: string, options: PresignOptions) => Promise<string>;

  constructor(private readonly options: S3StorageOptions) {
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      credentials: options.credentials,
      maxAttempts: 3,
      // Checksums only where S3 requires them: S3-compatible servers (MinIO, s3rver, R2…) do not
      // all understand the aws-chunked trailers the SDK would otherwise send with every PUT.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // A storage that does not answer becomes a 503 in seconds, not a request hanging for minutes.
      requestHandler: { connectionTimeout: 3000, requestTimeout: 30_000, throwOnRequestTimeout: true },
    });
    if (options.presign) this.presignGet = (key, o) => this.presign(key, o);
  }

  async put(key: string, body: Readable, size: number): Promise<void> {
    checkKey(key);
    // The SDK does not notice a body stream failing: abort the request then, or S3 would wait for
    // the missing bytes until the timeout. An aborted PUT stores nothing.
    const abort = new AbortController();
    const onError = (err: Error) => abort.abort(err);
    body.once('error', onError);
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.options.bucket, Key: key, Body: body, ContentLength: size }), { abortSignal: abort.signal });
    } catch (err) {
      body.destroy();
      // S3 itself keeps nothing of a failed PUT, but some compatible servers keep what arrived.
      await this.delete(key).catch(() => {});
      throw abort.signal.aborted ? abort.signal.reason : translate(err);
    } finally {
      body.off('error', onError);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    checkKey(key);
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
      );
      return out.Body as Readable;
    } catch (err) {
      throw isNotFound(err) ? new StorageNotFoundError(key) : translate(err);
    }
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    checkKey(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: key }));
      return { size: out.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw translate(err);
    }
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: key }));
    } catch (err) {
      if (!isNotFound(err)) throw translate(err);
    }
  }

  private presign(key: string, options: PresignOptions): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: this.options.bucket,
      Key: checkKey(key),
      ResponseContentType: options.contentType,
      ResponseContentDisposition: options.contentDisposition,
    });
    return getSignedUrl(this.client, command, { expiresIn: options.expiresIn });
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
