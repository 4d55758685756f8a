// `galley.auth`: sign in and out, and who is signed in (contract.md §3). In token mode the session
// token from login is kept (memory or the given storage) and sent as Bearer; in cookie mode the
// browser keeps the httpOnly cookie and the SDK never sees a token.

import type { AuthResponse, User } from '@galley/protocol';
import { GalleyError } from './errors.ts';
import type { Transport } from './transport.ts';

export class AuthApi {
  constructor(private readonly transport: Transport) {}

  /** Signs in with email and password; the session is kept for every later call. */
  async login(email: string, password: string, options: { signal?: AbortSignal } = {}): Promise<AuthResponse> {
    const result = await this.transport.json<AuthResponse>('POST', '/api/v1/auth/login', { body: { email, password }, signal: options.signal });
    if (!this.transport.cookies) await this.transport.session.set(result.token);
    return result;
  }

  /** Ends the session on the server; the kept token is dropped even when the server is unreachable. */
  async logout(options: { signal?: AbortSignal } = {}): Promise<void> {
    try {
      await this.transport.send('POST', '/api/v1/auth/logout', { signal: options.signal });
    } finally {
      await this.transport.session.set(null);
    }
  }

  /** The signed-in user. A 401 means the kept session is over, so it is dropped. */
  async me(options: { signal?: AbortSignal } = {}): Promise<User> {
    try {
      return (await this.transport.json<{ user: User }>('GET', '/api/v1/auth/me', { signal: options.signal })).user;
    } catch (err) {
      if (err instanceof GalleyError && err.status === 401) await this.transport.session.set(null);
      throw err;
    }
  }

  /** The kept session token (null when signed out, and always in cookie mode). */
  token(): Promise<string | null> {
    return this.transport.session.token();
  }

  /** Uses a token obtained elsewhere (server-side rendering, an API key); null signs out locally. */
  setToken(token: string | null): Promise<void> {
    return this.transport.session.set(token);
  }
}
