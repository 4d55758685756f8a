// The account flows that go by mail: password reset, email verification and the change of address,
// each a single-use, expiring link built from GALLEY_PUBLIC_URL, and (with GALLEY_AUTH_HIDE_ACCOUNTS)
// the mail that tells an address's owner that someone tried to register it. Requests answer the same whether or
// not the account exists; the mail itself is sent off the request path (mail/mailer.ts).

import { ApiError } from './api-error.ts';
import { emailTaken, type AuthService } from './auth.ts';
import type { AuthTokenStore, TokenPurpose } from './auth-tokens.ts';
import { TOKEN_LIFETIME_MS } from './auth-tokens.ts';
import type { AuthUser } from './caller.ts';
import type { SessionMeta } from './sessions.ts';
import { checkEmail } from './emails.ts';
import { passwordProblem } from './passwords.ts';
import { POLICIES } from './rate-limit.ts';
import type { Mailer } from '../mail/mailer.ts';

/** Where the links point: a page of the app that posts the token back (docs/accounts.md). */
export const LINK_PATHS: Record<TokenPurpose, string> = {
  password_reset: '/auth/reset-password',
  verify_email: '/auth/verify-email',
  email_change: '/auth/confirm-email-change',
};

const invalidLink = () => new ApiError('invalid_token', 'the link is invalid, used or expired; ask for a new one');
const hours = (ms: number) => Math.round(ms / 3_600_000);

export class AccountMail {
  constructor(
    private readonly auth: AuthService,
    private readonly tokens: AuthTokenStore,
    private readonly mailer: Mailer,
    private readonly publicUrl: string,
    /** GALLEY_AUTH_HIDE_ACCOUNTS: a change to a taken address answers like any other. */
    private readonly hideAccounts = false,
  ) {}

  /**
   * The token rides in the fragment: browsers send neither it to a server nor it in a Referer,
   * so it stays out of access logs.
   */
  private async link(purpose: TokenPurpose, user: AuthUser, email = user.email): Promise<string> {
    const token = await this.tokens.issue(purpose, user.id, email);
    return `${this.publicUrl}${LINK_PATHS[purpose]}#token=${token}`;
  }

  /** `POST /password-reset`: a reset link if the account exists; nothing otherwise, and no sign of which. */
  async requestPasswordReset(email: unknown, meta: SessionMeta = {}): Promise<AuthUser | undefined> {
    await this.auth.limiter.consume(POLICIES.mailClient, meta.ip ?? 'unknown');
    const checked = checkEmail(email);
    if ('error' in checked) return undefined;
    // Counted for every address, existing or not, so a 429 tells nothing about accounts.
    await this.auth.limiter.consume(POLICIES.mailAccount, checked.email);
    const user = await this.auth.userByEmail(checked.email);
    if (!user) return undefined;
    this.mailer.send({
      to: user.email,
      subject: 'Reset your password',
      text: `Someone (hopefully you) asked to reset the password of ${user.email}.\n\nChoose a new password here (the link works once, for ${hours(TOKEN_LIFETIME_MS.password_reset)} hour):\n${await this.link('password_reset', user)}\n\nIf it was not you, ignore this mail: your password stays as it is.\n`,
    });
    return user;
  }

  /**
   * `POST /password-reset/confirm`: the new password, then the token (a weak password does not use
   * the link up). The mail proved the address, so the account is verified too.
   */
  async confirmPasswordReset(token: unknown, password: unknown, meta: SessionMeta = {}): Promise<AuthUser> {
    const problem = passwordProblem(password);
    if (problem) throw ApiError.validation([problem]);
    await this.auth.limiter.consume(POLICIES.confirmClient, meta.ip ?? 'unknown');
    const used = await this.tokens.consume('password_reset', token);
    const user = used && (await this.auth.userById(used.userId));
    if (!used || !user || user.email !== used.email) throw invalidLink();
    await this.auth.setPassword(user.id, password);
    const revoked = await this.auth.sessions.revokeAll(user.id);
    await this.auth.sessionsEnded({ userId: user.id });
    await this.auth.markVerified(user.id, used.email);
    await this.auth.audit.record({ action: 'password.reset', user: user.id, meta, detail: { sessionsRevoked: revoked } });
    return user;
  }

  /** Mails a verification link to an unverified account's address. */
  async sendVerification(user: AuthUser): Promise<void> {
    if (user.verified) return;
    this.mailer.send({
      to: user.email,
      subject: 'Confirm your email address',
      text: `Confirm that ${user.email} is your address (the link works once, for ${hours(TOKEN_LIFETIME_MS.verify_email)} hours):\n${await this.link('verify_email', user)}\n\nIf you did not sign up, ignore this mail.\n`,
    });
  }

  /** `POST /verify-email`: for the signed-in caller, or for the account of `email` if there is one. */
  async requestVerification(caller: AuthUser | null, email: unknown, meta: SessionMeta = {}): Promise<AuthUser | undefined> {
    await this.auth.limiter.consume(POLICIES.mailClient, meta.ip ?? 'unknown');
    let user = caller ?? undefined;
    if (!user) {
      const checked = checkEmail(email);
      if ('error' in checked) return undefined;
      await this.auth.limiter.consume(POLICIES.mailAccount, checked.email);
      user = await this.auth.userByEmail(checked.email);
    }
    if (user) await this.sendVerification(user);
    return user;
  }

  /** `POST /verify-email/confirm`: only for the address the link was mailed to. */
  async confirmVerification(token: unknown, meta: SessionMeta = {}): Promise<AuthUser> {
    await this.auth.limiter.consume(POLICIES.confirmClient, meta.ip ?? 'unknown');
    const used = await this.tokens.consume('verify_email', token);
    if (!used || !(await this.auth.markVerified(used.userId, used.email))) throw invalidLink();
    await this.auth.audit.record({ action: 'email.verified', user: used.userId, email: used.email, meta });
    return (await this.auth.userById(used.userId))!;
  }

  /**
   * `POST /email-change`: the signed-in user proves their password and names the new address; a
   * link goes to that address, and the account moves only when it is followed (so nobody moves an
   * account to an address they cannot read, or takes over a stranger's). Counted per client, and
   * per new address so nobody floods a stranger's mailbox.
   */
  async requestEmailChange(user: AuthUser, email: unknown, currentPassword: unknown, meta: SessionMeta = {}): Promise<void> {
    await this.auth.limiter.consume(POLICIES.mailClient, meta.ip ?? 'unknown');
    await this.auth.proveCurrentPassword(user, currentPassword);
    const checked = checkEmail(email);
    if ('error' in checked) throw ApiError.validation([checked.error]);
    if (checked.email === user.email) throw ApiError.validation([{ field: 'email', code: 'unchanged', message: 'is the current address' }]);
    await this.auth.limiter.consume(POLICIES.mailAccount, checked.email);
    const owner = await this.auth.userByEmail(checked.email);
    if (owner) {
      if (!this.hideAccounts) throw emailTaken();
      this.mailer.send({
        to: owner.email,
        subject: 'Someone tried to use your address',
        text: `Someone asked to move another account to ${owner.email}, which already has one. Nothing was changed.\n\nIf it was you, sign in to that account instead. If it was not you, ignore this mail.\n`,
      });
      return;
    }
    this.mailer.send({
      to: checked.email,
      subject: 'Confirm your new email address',
      text: `Someone (hopefully you) asked to change the address of the account ${user.email} to ${checked.email}.\n\nConfirm the change here (the link works once, for ${hours(TOKEN_LIFETIME_MS.email_change)} hour):\n${await this.link('email_change', user, checked.email)}\n\nIf it was not you, ignore this mail: nothing changes.\n`,
    });
    await this.auth.audit.record({ action: 'email.change_requested', user: user.id, email: checked.email, meta });
  }

  /**
   * `POST /email-change/confirm`: the account moves to the address the link was mailed to, which
   * counts as verified; the old address is told, so an owner whose session was stolen finds out.
   */
  async confirmEmailChange(token: unknown, meta: SessionMeta = {}): Promise<AuthUser> {
    await this.auth.limiter.consume(POLICIES.confirmClient, meta.ip ?? 'unknown');
    const used = await this.tokens.consume('email_change', token);
    const before = used && (await this.auth.userById(used.userId));
    if (!used || !before || !(await this.auth.changeEmail(before.id, before.email, used.email))) throw invalidLink();
    await this.auth.audit.record({ action: 'email.changed', user: before.id, email: used.email, meta, detail: { from: before.email } });
    this.mailer.send({
      to: before.email,
      subject: 'Your email address was changed',
      text: `The account that used ${before.email} now uses ${used.email}: this address no longer signs in to it.\n\nIf you did not ask for this, contact the people who run the service at once.\n`,
    });
    return (await this.auth.userById(before.id))!;
  }

  /** With hidden accounts, a registration of a taken address tells its owner instead of the caller. */
  async registrationAttempted(user: AuthUser): Promise<void> {
    this.mailer.send({
      to: user.email,
      subject: 'Someone tried to sign up with your address',
      text: `Someone tried to create an account for ${user.email}, which already has one.\n\nIf it was you, sign in, or reset your password here (the link works once, for ${hours(TOKEN_LIFETIME_MS.password_reset)} hour):\n${await this.link('password_reset', user)}\n\nIf it was not you, ignore this mail.\n`,
    });
  }
}
