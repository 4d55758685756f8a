// Self-service sign-up (`POST /register`): an unverified account without roles, a verification
// mail, and a session. With GALLEY_AUTH_HIDE_ACCOUNTS every valid registration answers alike
// (202, no session) and the outcome goes by mail, so no response reveals whether an address has an
// account; both paths hash a password, so neither is faster.

import type { AccountMail } from './account-mail.ts';
import { ApiError } from './api-error.ts';
import type { AuthService, SessionMeta } from './auth.ts';
import type { AuthUser } from './caller.ts';
import { POLICIES } from './rate-limit.ts';

/** The profile fields a registration may set (contract §3: `{email, password, name?}`). */
const PROFILE_FIELDS = new Set(['name']);

export type RegistrationOutcome = { status: 201; user: AuthUser; token: string } | { status: 202 };

export class Registration {
  constructor(
    private readonly auth: AuthService,
    private readonly mail: AccountMail,
    private readonly hideAccounts: boolean,
  ) {}

  async register(body: Record<string, unknown>, meta: SessionMeta): Promise<RegistrationOutcome> {
    const { email, password, ...profile } = body;
    const unknown = Object.keys(profile).filter((k) => !PROFILE_FIELDS.has(k));
    if (unknown.length) throw ApiError.validation(unknown.map((field) => ({ field, code: 'unknown_field', message: 'is not accepted here' })));
    await this.auth.limiter.consume(POLICIES.register, meta.ip ?? 'unknown');
    let user: AuthUser;
    try {
      user = await this.auth.createUser({ email, password, profile });
    } catch (err) {
      if (!this.hideAccounts || !(err instanceof ApiError) || err.code !== 'conflict') throw err;
      // createUser hashed the password before the insert failed: this path took as long.
      const owner = await this.auth.userByEmail(email as string);
      if (owner) await this.mail.registrationAttempted(owner);
      return { status: 202 };
    }
    await this.auth.audit.record({ action: 'user.registered', user: user.id, meta });
    await this.mail.sendVerification(user);
    if (this.hideAccounts) return { status: 202 };
    return { status: 201, ...(await this.auth.signIn(user, meta, 'registration')) };
  }
}
