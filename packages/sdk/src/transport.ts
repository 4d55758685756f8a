// One HTTP round trip: builds the URL and headers (Bearer token, or the browser's cookie in cookie
// mode), sends JSON, and turns every non-2xx answer into a GalleyError and every lost one into a
// GalleyNetworkError. Everything else in the SDK goes through `send`.

import { GalleyError, GalleyNetworkError } from './errors.ts';
import type { Session } from './session.ts';

export type QueryValue = string | number | boolean | undefined;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface Answer<T> {
  status: number;
  headers: Headers;
  data: T;
}

export interface TransportOptions {
  fetch: typeof fetch;
  session: Session;
  /** Cookie mode: the browser sends `galley_session` (credentials: 'include'); no token is kept. */
  cookies: boolean;
}

export class Transport {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly options: TransportOptions,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  get session(): Session {
    return this.options.session;
  }

  get cookies(): boolean {
    return this.options.cookies;
  }

  url(path: string, query?: Record<string, QueryValue>): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) params.set(key, String(value));
    const search = params.toString();
    return `${this.baseUrl}${path}${search ? `?${search}` : ''}`;
  }

  async send<T>(method: string, path: string, options: RequestOptions = {}): Promise<Answer<T>> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const token = this.options.cookies ? null : await this.options.session.token();
    if (token && !headers.authorization) headers.authorization = `Bearer ${token}`;
    const init: RequestInit = { method, headers, signal: options.signal };
    if (options.body !== undefined) init.body = JSON.stringify(options.body);
    if (this.options.cookies) init.credentials = 'include';

    let response: Response;
    let text: string;
    try {
      response = await this.options.fetch(this.url(path, options.query), init);
      text = await response.text();
    } catch (err) {
      // A cancelled call is the caller's own doing: give back their reason, not a network error.
      if (options.signal?.aborted) throw options.signal.reason;
      throw new GalleyNetworkError(`${method} ${path}: no answer from ${this.baseUrl}`, { cause: err });
    }
    const data = parseBody(text, response.headers.get('content-type'));
    if (!response.ok && response.status !== 304) {
      const problem = typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
      throw new GalleyError(response.status, problem, response.headers);
    }
    return { status: response.status, headers: response.headers, data: data as T };
  }

  async json<T>(method: string, path: string, options?: RequestOptions): Promise<T> {
    return (await this.send<T>(method, path, options)).data;
  }
}

function parseBody(text: string, contentType: string | null): unknown {
  if (text === '') return undefined;
  if (!contentType || !/[/+]json\b/.test(contentType)) return text;
  try {
    return JSON.parse(text);
  } catch {
    // A JSON content type with a body that is not JSON (cut off by a proxy): keep the text.
    return text;
  }
}

/** `/api/v1/collections/posts/records/abc`: every segment encoded, so a name can never change the path. */
export function apiPath(...segments: string[]): string {
  return `/api/v1/${segments.map(encodeURIComponent).join('/')}`;
}
