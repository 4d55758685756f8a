// `galley.files` (contract.md §7): URLs of stored files (thumbnails, file tokens for protected
// fields) and resumable uploads over tus 1.0. tus-js-client is an optional peer dependency,
// imported only when the first upload starts, so an app that never uploads never ships it.

import { GalleyError, GalleyNetworkError } from './errors.ts';
import { apiPath, type Transport } from './transport.ts';

/** What a record body takes for a file field: `{ cover: upload }`, or `[upload, …]` on a multiple field. */
export interface UploadRef {
  upload: string;
}

export interface FileUrlOptions {
  /** A size the field lists in `thumbs` (`100x100`, `0x300`, `300x0`, `100x100f`); the original until it is made. */
  thumb?: string;
  /** From `files.token()`: needed for protected fields, where an <img> cannot send a header. */
  token?: string;
}

/** What `upload` accepts: a browser File or Blob, or in Node a Buffer / Uint8Array. */
export type UploadSource = Blob | Uint8Array;

export interface UploadOptions {
  /** Called as bytes are accepted by the server: sent and total, in bytes. */
  onProgress?: (sent: number, total: number) => void;
  /** Aborting stops the upload (the server keeps what it has: `resume()` or `uploadUrl` continue it). */
  signal?: AbortSignal;
  /** The original name (a File's own name by default). Galley keeps it; the stored name is random. */
  filename?: string;
  /** An earlier upload's `url`: continues it from the server's offset instead of starting again. */
  uploadUrl?: string;
  /** Bytes per PATCH request. Default: the whole file in one request. */
  chunkSize?: number;
  /** Waits (ms) between automatic retries after a lost connection; `[]` for none. Default [0, 1000, 3000, 5000]. */
  retryDelays?: number[];
}

/** The part of tus-js-client's API used here (it is an optional peer, so its types are not required). */
interface TusUpload {
  url: string | null;
  start(): void;
  abort(terminate?: boolean): Promise<void>;
}
interface TusDetailedError extends Error {
  originalResponse?: { getStatus(): number; getBody(): string; getHeader(name: string): string | undefined } | null;
}
interface TusRequest {
  getUnderlyingObject(): unknown;
}
type TusModule = { Upload: new (file: unknown, options: Record<string, unknown>) => TusUpload };

let tusModule: Promise<TusModule> | undefined;
function loadTus(): Promise<TusModule> {
  // A variable specifier would hide it from bundlers; this one lets them split it into its own chunk.
  return (tusModule ??= import('tus-js-client').then(
    (m) => m as unknown as TusModule,
    (err: unknown) => {
      tusModule = undefined;
      throw new Error('galley.files.upload needs tus-js-client: npm install tus-js-client@~4.3', { cause: err });
    },
  ));
}

/**
 * One resumable upload. Await it for the `{ upload: id }` to put in a record body; `pause()` and
 * `resume()` keep the server's copy, `abort()` removes it. `url` names the upload on the server
 * once it exists, for resuming it later (after a reload, with `uploadUrl`).
 */
export class FileUpload implements PromiseLike<UploadRef> {
  private tus: TusUpload | undefined;
  private readonly result: Promise<UploadRef>;
  private settle!: { resolve: (ref: UploadRef) => void; reject: (err: unknown) => void };
  private paused = false;
  private finished = false;

  constructor(
    private readonly transport: Transport,
    private readonly source: UploadSource,
    private readonly options: UploadOptions,
  ) {
    this.result = new Promise<UploadRef>((resolve, reject) => (this.settle = { resolve, reject }));
    // An upload nobody awaits (started, then dropped by a page) must not be an unhandled rejection.
    this.result.catch(() => {});
    const { signal } = options;
    if (signal?.aborted) {
      this.fail(signal.reason);
      return;
    }
    signal?.addEventListener('abort', () => void this.stop(false).then(() => this.fail(signal.reason)), { once: true });
    void this.begin();
  }

  then<A = UploadRef, B = never>(onFulfilled?: ((ref: UploadRef) => A | PromiseLike<A>) | null, onRejected?: ((err: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return this.result.then(onFulfilled, onRejected);
  }

  /** The upload's URL on the server (null until it has been created). */
  get url(): string | null {
    return this.tus?.url ?? this.options.uploadUrl ?? null;
  }

  /** The upload id (the last segment of `url`), once the server has created it. */
  get id(): string | null {
    const url = this.url;
    return url ? decodeURIComponent(url.split('?')[0]!.split('/').pop()!) : null;
  }

  /** Stops sending; the server keeps the bytes it has. */
  async pause(): Promise<void> {
    if (this.finished) return;
    this.paused = true;
    await this.tus?.abort(false);
  }

  /** Continues a paused upload from the server's offset. (After a failure, start a new one with `uploadUrl: failed.url`.) */
  resume(): void {
    if (this.finished || !this.paused) return;
    this.paused = false;
    this.tus?.start();
  }

  /** Stops and removes the upload from the server; the awaited result rejects with an AbortError. */
  async abort(): Promise<void> {
    await this.stop(true);
    this.fail(new DOMException('the upload was aborted', 'AbortError'));
  }

  private async stop(terminate: boolean): Promise<void> {
    if (this.finished) return;
    try {
      await this.tus?.abort(terminate);
    } catch {
      // Terminating is a courtesy: the server expires abandoned uploads anyway.
    }
  }

  private fail(err: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.settle.reject(err);
  }

  private async begin(): Promise<void> {
    let tus: TusModule;
    try {
      tus = await loadTus();
    } catch (err) {
      this.fail(err);
      return;
    }
    if (this.finished) return;
    const token = this.transport.cookies ? null : await this.transport.session.token();
    const named = this.source as { name?: unknown; type?: unknown };
    const metadata: Record<string, string> = {};
    const filename = this.options.filename ?? (typeof named.name === 'string' ? named.name : undefined);
    if (filename) metadata.filename = filename;
    if (typeof named.type === 'string' && named.type) metadata.filetype = named.type;
    this.tus = new tus.Upload(this.source, {
      endpoint: this.transport.url(apiPath('uploads')),
      uploadUrl: this.options.uploadUrl ?? null,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      metadata,
      // tus reads a present-but-undefined chunkSize as a size, not as "the default" (Infinity).
      ...(this.options.chunkSize === undefined ? {} : { chunkSize: this.options.chunkSize }),
      retryDelays: this.options.retryDelays ?? [0, 1000, 3000, 5000],
      // Resuming is by `url` / `uploadUrl`, chosen by the app: nothing is written to localStorage.
      storeFingerprintForResuming: false,
      onBeforeRequest: (req: TusRequest) => {
        // Cookie mode across origins: the browser sends the session cookie only when asked to.
        const xhr = req.getUnderlyingObject() as { withCredentials?: boolean } | undefined;
        if (this.transport.cookies && xhr && 'withCredentials' in xhr) xhr.withCredentials = true;
      },
      onProgress: (sent: number, total: number) => this.options.onProgress?.(sent, total),
      onSuccess: () => {
        if (this.finished) return;
        this.finished = true;
        this.settle.resolve({ upload: this.id! });
      },
      onError: (err: TusDetailedError) => {
        if (this.paused || this.finished) return;
        this.fail(toGalleyError(err, this.transport.baseUrl));
      },
    });
    if (!this.paused) this.tus.start();
  }
}

/** A tus failure in the SDK's two kinds: the server answered (GalleyError), or nothing came back. */
function toGalleyError(err: TusDetailedError, baseUrl: string): Error {
  const response = err.originalResponse;
  const status = response?.getStatus() ?? 0;
  if (!response || status === 0) return new GalleyNetworkError(`upload: no answer from ${baseUrl}`, { cause: err });
  let problem: Record<string, unknown> = {};
  try {
    const body: unknown = JSON.parse(response.getBody());
    if (body && typeof body === 'object' && !Array.isArray(body)) problem = body as Record<string, unknown>;
  } catch {
    // tus's own answers are plain text: keep it as the detail.
    const text = response.getBody()?.trim();
    if (text) problem = { detail: text.slice(0, 500) };
  }
  const headers = new Headers();
  const requestId = response.getHeader('x-request-id');
  if (requestId) headers.set('x-request-id', requestId);
  return new GalleyError(status, problem, headers);
}

/** `/api/v1/files/:collection/:recordId/:filename?thumb=…&token=…`, every segment encoded. */
export function fileUrl(transport: Transport, collection: string, record: string | { id: string }, filename: string, options: FileUrlOptions = {}): string {
  const id = typeof record === 'string' ? record : record.id;
  return transport.url(apiPath('files', collection, id, filename), { thumb: options.thumb, token: options.token });
}

export class FilesApi {
  constructor(private readonly transport: Transport) {}

  /**
   * The URL of a stored file: `filename` is the stored name a file field holds. Works as an
   * <img src> or a download link; add a `token` from `token()` for protected fields.
   */
  url(collection: string, record: string | { id: string }, filename: string, options: FileUrlOptions = {}): string {
    return fileUrl(this.transport, collection, record, filename, options);
  }

  /** A short-lived token (two minutes) for `?token=` on protected files, for the signed-in caller. */
  token(options: { signal?: AbortSignal } = {}): Promise<{ token: string; expires: string }> {
    return this.transport.json('POST', apiPath('files', 'token'), options);
  }

  /**
   * A resumable tus upload to `/api/v1/uploads` (signed-in callers only). Await it for the
   * `{ upload: id }` to put in a record body: `posts.create({ cover: await galley.files.upload(file) })`.
   */
  upload(source: UploadSource, options: UploadOptions = {}): FileUpload {
    return new FileUpload(this.transport, source, options);
  }
}
