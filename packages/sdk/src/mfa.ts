// `galley.auth.mfa`: the caller's second factor (contract.md §3): TOTP enrolment, confirmation,
// turning it off, and recovery codes. The sign-in step itself is `galley.auth.verifyMfa`.

import type { MfaStatus, TotpEnrolment } from '@galley/protocol';
import type { Transport } from './transport.ts';

type Options = { signal?: AbortSignal };

export class MfaApi {
  constructor(private readonly transport: Transport) {}

  status(options: Options = {}): Promise<MfaStatus> {
    return this.transport.json<MfaStatus>('GET', '/api/v1/auth/mfa', options);
  }

  /** A fresh secret, pending until `confirmTotp` with a code from the app. */
  enrolTotp(options: Options = {}): Promise<TotpEnrolment> {
    return this.transport.json<TotpEnrolment>('POST', '/api/v1/auth/mfa/totp', options);
  }

  /** Turns TOTP on; resolves to the recovery codes, shown once. */
  async confirmTotp(code: string, options: Options = {}): Promise<string[]> {
    return (await this.transport.json<{ recoveryCodes: string[] }>('POST', '/api/v1/auth/mfa/totp/confirm', { body: { code }, signal: options.signal })).recoveryCodes;
  }

  /** Turns TOTP off; needs a current code (TOTP or recovery). */
  async disableTotp(code: string, options: Options = {}): Promise<void> {
    await this.transport.send('DELETE', '/api/v1/auth/mfa/totp', { body: { code }, signal: options.signal });
  }

  /** New recovery codes in place of the old ones; needs a current code. */
  async regenerateRecoveryCodes(code: string, options: Options = {}): Promise<string[]> {
    return (await this.transport.json<{ recoveryCodes: string[] }>('POST', '/api/v1/auth/mfa/recovery-codes', { body: { code }, signal: options.signal })).recoveryCodes;
  }
}
