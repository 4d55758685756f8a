// createClient(): one object per Galley server. It owns the transport (fetch, session) and hands
// out the parts: `auth`, `collection(name)` (records and their realtime subscriptions, over one
// shared socket), `collections`, `users`, `audit`, `metrics`, `apiKeys`, `webhooks` and `setup` (admin), `files`, `batch`, `filter`.

import type { BaseRecord, BatchOperation, BatchResult } from '@galley/protocol';
import { AuditApi, MetricsApi, UsersApi } from './admin.ts';
import { ApiKeysApi } from './api-keys.ts';
import { AuthApi } from './auth.ts';
import { CollectionsApi } from './collections.ts';
import { FilesApi } from './files.ts';
import { filter } from './filter.ts';
import { Realtime, type WebSocketConstructor } from './realtime.ts';
import { RecordCollection } from './records.ts';
import { Session, type TokenStorage } from './session.ts';
import { SetupApi } from './setup.ts';
import { Transport, type RequestOptions } from './transport.ts';
import { WebhooksApi } from './webhooks.ts';

export interface ClientOptions {
  /** Defaults to the global fetch (browsers, Node ≥ 18, Deno, Bun, React Native). */
  fetch?: typeof fetch;
  /** Defaults to the global WebSocket; in Node 20 pass `ws`. Used by `subscribe`. */
  WebSocket?: WebSocketConstructor;
  /** Realtime reconnects wait a random time up to this · 2ⁿ ms (capped at 30 s). Default 500. */
  reconnectBackoffMs?: number;
  /** Keeps the session token across page loads (localStorage …); memory only without it. */
  storage?: TokenStorage;
  /**
   * `'cookie'`: rely on the httpOnly `galley_session` cookie (credentials: 'include'), for a
   * frontend served from an allowed origin; no token is ever readable by scripts. Default `'token'`.
   */
  session?: 'token' | 'cookie';
}

/** Collection name → record type, as `galley typegen` writes it (`Collections`). */
export type Schema = object;

export class GalleyClient<S extends Schema = Record<string, BaseRecord>> {
  readonly auth: AuthApi;
  /** Defining collections: superusers only. */
  readonly collections: CollectionsApi;
  /** File URLs (thumbnails, tokens) and resumable uploads (tus-js-client, loaded on first use). */
  readonly files: FilesApi;
  /** API keys for servers and scripts: superusers only. */
  readonly apiKeys: ApiKeysApi;
  /** Accounts with their roles, the audit log, the metrics: superusers only. */
  readonly users: UsersApi;
  readonly audit: AuditApi;
  readonly metrics: MetricsApi;
  /** Signed deliveries of record changes to your URLs, and their delivery log: superusers only. */
  readonly webhooks: WebhooksApi;
  /** The first run: creating the first superuser. */
  readonly setup: SetupApi;
  /** The tagged template that quotes values for filters: galley.filter`title ~ ${q}`. */
  readonly filter = filter;
  private readonly transport: Transport;
  private hub: Realtime | undefined;
  private readonly realtime = () => (this.hub ??= new Realtime(this.transport, this.webSocket, this.backoffMs));
  private readonly webSocket: WebSocketConstructor | undefined;
  private readonly backoffMs: number | undefined;

  constructor(url: string, options: ClientOptions = {}) {
    const fetchImpl = options.fetch ?? globalThis.fetch?.bind(globalThis);
    if (!fetchImpl) throw new TypeError('createClient: no global fetch here; pass options.fetch');
    const cookies = options.session === 'cookie';
    this.transport = new Transport(url, { fetch: fetchImpl, session: new Session(cookies ? undefined : options.storage), cookies });
    this.webSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    this.backoffMs = options.reconnectBackoffMs;
    this.auth = new AuthApi(this.transport);
    this.collections = new CollectionsApi(this.transport);
    this.files = new FilesApi(this.transport);
    this.apiKeys = new ApiKeysApi(this.transport);
    this.users = new UsersApi(this.transport);
    this.audit = new AuditApi(this.transport);
    this.metrics = new MetricsApi(this.transport);
    this.webhooks = new WebhooksApi(this.transport);
    this.setup = new SetupApi(this.transport);
  }

  get url(): string {
    return this.transport.baseUrl;
  }

  /** The records of one collection, typed by the schema given to createClient or by `T`. */
  collection<K extends keyof S & string>(name: K): RecordCollection<S[K] & object>;
  collection<T extends object>(name: string): RecordCollection<T>;
  collection(name: string): RecordCollection<object> {
    return new RecordCollection(this.transport, name, this.realtime);
  }

  /** Up to 100 creates, updates and deletes in one transaction: all succeed, or none does. */
  async batch(operations: BatchOperation[], options: { signal?: AbortSignal } = {}): Promise<BatchResult[]> {
    return (await this.transport.json<{ results: BatchResult[] }>('POST', '/api/v1/batch', { body: { operations }, signal: options.signal })).results;
  }

  /** `{status: 'ok'}` once the server's database answers; a GalleyError (503) otherwise. */
  health(options: { signal?: AbortSignal } = {}): Promise<{ status: string }> {
    return this.transport.json('GET', '/api/v1/health', options);
  }

  /**
   * Any other endpoint, with the same session, errors and network handling: for API parts this
   * SDK does not wrap yet. `path` starts with `/api/v1/`.
   */
  request<T = unknown>(method: string, path: string, options?: RequestOptions): Promise<T> {
    return this.transport.json<T>(method, path, options);
  }
}

export function createClient<S extends Schema = Record<string, BaseRecord>>(url: string, options?: ClientOptions): GalleyClient<S> {
  return new GalleyClient<S>(url, options);
}
