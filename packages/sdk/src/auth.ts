// `galley.auth`: register, sign in (with the second step for users with MFA) and out, who is
// signed in, and the MFA settings (contract.md §3). In token mode the session token is kept
// (memory or the given storage) and sent as Bearer; in cookie mode the browser keeps the httpOnly
// cookie and the SDK never sees a token.

import type { AuthResponse, MfaChallenge, MfaStatus, TotpEnrolment, User } from '@galley/protocol';
import { GalleyError } from './errors.ts';
import type { Transport } from './transport.ts';

type Options = { signal?: AbortSignal };

export class AuthApi {
  /** Second factor settings of the signed-in user. */
  readonly mfa: MfaApi;

  constructor(private readonly transport: Transport) {
    this.mfa = new MfaApi(transport);
  }

  private async keep(result: AuthResponse): Promise<AuthResponse> {
    if (!this.transport.cookies) await this.transport.session.set(result.token);
    return result;
  }

  /** Creates an account (`name` and the other fields `users` allows) and signs it in. */
  async register(input: { email: string; password: string; name?: string }, options: Options = {}): Promise<AuthResponse> {
    return this.keep(await this.transport.json<AuthResponse>('POST', '/api/v1/auth/register', { body: input, signal: options.signal }));
  }

  /**
   * Signs in with email and password; the session is kept for every later call. For a user with
   * MFA the answer is `{mfaRequired: true, ticket}` instead: pass the ticket and a code to `verifyMfa`.
   */
  async login(email: string, password: string, options: Options = {}): Promise<AuthResponse | MfaChallenge> {
    const result = await this.transport.json<AuthResponse | MfaChallenge>('POST', '/api/v1/auth/login', { body: { email, password }, signal: options.signal });
    return 'mfaRequired' in result ? result : this.keep(result);
  }

  /** The second step of a sign-in: the ticket from `login` and a TOTP or recovery code. */
  async verifyMfa(ticket: string, code: string, options: Options = {}): Promise<AuthResponse> {
    return this.keep(await this.transport.json<AuthResponse>('POST', '/api/v1/auth/mfa/verify', { body: { ticket, code }, signal: options.signal }));
  }

  /** Ends the session on the server; the kept token is dropped even when the server is unreachable. */
  async logout(options: Options = {}): Promise<void> {
    try {
      await this.transport.send('POST', '/api/v1/auth/logout', { signal: options.signal });
    } finally {
      await this.transport.session.set(null);
    }
  }

  /** The signed-in user. A 401 means the kept session is over, so it is dropped. */
  async me(options: Options = {}): Promise<User> {
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

/** `/api/v1/auth/mfa`: turning TOTP on (enrol, then confirm with a code) and off, recovery codes. */
export class MfaApi {
  constructor(private readonly transport: Transport) {}

  status(options: Options = {}): Promise<MfaStatus> {
    return this.transport.json('GET', '/api/v1/auth/mfa', options);
  }

  /** Starts (or restarts) a pending enrolment: show `qrCode`, then `confirmTotp` with the app's code. */
  enrolTotp(options: Options = {}): Promise<TotpEnrolment> {
    return this.transport.json('POST', '/api/v1/auth/mfa/totp', options);
  }

  /** Turns TOTP on; the recovery codes are shown this once. */
  async confirmTotp(code: string, options: Options = {}): Promise<string[]> {
    return (await this.transport.json<{ recoveryCodes: string[] }>('POST', '/api/v1/auth/mfa/totp/confirm', { body: { code }, signal: options.signal })).recoveryCodes;
  }

  /** Turns TOTP off; needs a current TOTP or recovery code. */
  async disableTotp(code: string, options: Options = {}): Promise<void> {
    await this.transport.send('DELETE', '/api/v1/auth/mfa/totp', { body: { code }, signal: options.signal });
  }

  /** Replaces every recovery code (the old ones stop working); needs a current code. */
  async regenerateRecoveryCodes(code: string, options: Options = {}): Promise<string[]> {
    return (await this.transport.json<{ recoveryCodes: string[] }>('POST', '/api/v1/auth/mfa/recovery-codes', { body: { code }, signal: options.signal })).recoveryCodes;
  }
}
