// `galley.auth`: register, sign in and out (password, the MFA step, OAuth), who is signed in, and
// the account flows that go by mail (password reset, verification, email change) (contract.md §3). In token mode the session token from login is kept (memory or the given
// storage) and sent as Bearer; in cookie mode the browser keeps the httpOnly cookie and the SDK
// never sees a token.

import type { AuthResponse, LoginResponse, User } from '@galley/protocol';
import { GalleyError } from './errors.ts';
import { MfaApi } from './mfa.ts';
import { SessionsApi } from './auth-sessions.ts';
import { apiPath, type Transport } from './transport.ts';

export class AuthApi {
  /** The caller's second factor: enrolment, confirmation, recovery codes. */
  readonly mfa: MfaApi;
  /** The signed-in user's sessions: list and revoke. */
  readonly sessions: SessionsApi;

  constructor(private readonly transport: Transport) {
    this.mfa = new MfaApi(transport);
    this.sessions = new SessionsApi(transport);
  }

  /** Creates an account (`name`, or the other fields `users` allows at registration) and signs it in. */
  async register(input: { email: string; password: string; name?: string }, options: { signal?: AbortSignal } = {}): Promise<AuthResponse> {
    return this.keep(await this.transport.json<AuthResponse>('POST', '/api/v1/auth/register', { body: input, signal: options.signal }));
  }

  /**
   * Signs in with email and password; the session is kept for every later call. For an account
   * with MFA the answer is `{ mfaRequired: true, ticket }` and no session: ask for a code and
   * call `verifyMfa(ticket, code)`.
   */
  async login(email: string, password: string, options: { signal?: AbortSignal } = {}): Promise<LoginResponse> {
    const result = await this.transport.json<LoginResponse>('POST', '/api/v1/auth/login', { body: { email, password }, signal: options.signal });
    if ('token' in result) await this.keep(result);
    return result;
  }

  /** The second step of a sign-in: the ticket from `login` (or an OAuth redirect's fragment) and a TOTP or recovery code. */
  async verifyMfa(ticket: string, code: string, options: { signal?: AbortSignal } = {}): Promise<AuthResponse> {
    return this.keep(await this.transport.json<AuthResponse>('POST', '/api/v1/auth/mfa/verify', { body: { ticket, code }, signal: options.signal }));
  }

  /**
   * Where to send the browser (a link or `location.assign`, not fetch) to sign in with an OAuth
   * provider; it comes back to `redirect` (a path on the server or an allowed origin) signed in
   * with the session cookie — or with `#mfaRequired=true&ticket=…` for an account with MFA.
   */
  oauth(provider: string, options: { redirect?: string } = {}): string {
    return this.transport.url(apiPath('auth', 'oauth', provider), { redirect: options.redirect });
  }

  private async keep(session: AuthResponse): Promise<AuthResponse> {
    if (!this.transport.cookies) await this.transport.session.set(session.token);
    return session;
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

  /**
   * Changes the signed-in user's password, proving the current one. Every session of the user ends
   * and the new one from the answer is kept.
   */
  async changePassword(currentPassword: string, password: string, options: { signal?: AbortSignal } = {}): Promise<AuthResponse> {
    return this.keep(await this.transport.json<AuthResponse>('POST', '/api/v1/auth/password', { body: { currentPassword, password }, signal: options.signal }));
  }

  /** Mails a password reset link if the account exists; resolves alike either way. */
  async requestPasswordReset(email: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.transport.send('POST', '/api/v1/auth/password-reset', { body: { email }, signal: options.signal });
  }

  /** Sets a new password with the token from the reset link's `#token=` fragment; every session of the user ends. */
  async resetPassword(token: string, password: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.transport.send('POST', '/api/v1/auth/password-reset/confirm', { body: { token, password }, signal: options.signal });
  }

  /** Mails a verification link: to the signed-in user, or to the account of `email`. */
  async requestVerification(email?: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.transport.send('POST', '/api/v1/auth/verify-email', { body: email === undefined ? {} : { email }, signal: options.signal });
  }

  /** Verifies the address with the token from the verification link. */
  async verifyEmail(token: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.transport.send('POST', '/api/v1/auth/verify-email/confirm', { body: { token }, signal: options.signal });
  }

  /**
   * Asks to move the signed-in user to a new address, proving the current password; nothing
   * changes until the link mailed to the new address is followed (`confirmEmailChange`).
   */
  async requestEmailChange(email: string, currentPassword: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.transport.send('POST', '/api/v1/auth/email-change', { body: { email, currentPassword }, signal: options.signal });
  }

  /** Moves the account to the new address with the token from the link mailed there. */
  async confirmEmailChange(token: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.transport.send('POST', '/api/v1/auth/email-change/confirm', { body: { token }, signal: options.signal });
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
