// The second factor: TOTP enrolment (RFC 6238, what authenticator apps speak), its confirmation,
// verification with replay refusal, and single-use recovery codes. Knows nothing of HTTP.
//
// TOTP secrets are stored sealed (AES-256-GCM, core/sealing.ts) under a key derived from the server
// secret, bound to their user id; recovery codes are stored as keyed hashes (HMAC-SHA256), so a
// copy of the database alone reveals neither.

import crypto from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { ApiError } from './api-error.ts';
import type { AuditLog } from './audit.ts';
import type { AuthUser } from './caller.ts';
import { POLICIES, type RateLimiter } from './rate-limit.ts';
import { seal, unseal } from './sealing.ts';
import type { SessionMeta } from './sessions.ts';
import { SqlParams, type Database, type Queryable } from '../db/database.ts';

export const RECOVERY_CODE_COUNT = 10;
/** 32 letters and digits without look-alikes (0/o, 1/l): 5 bits per character, 50 bits per code. */
const RECOVERY_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
const RECOVERY_LENGTH = 10;
/** Authenticator apps' defaults; anything else breaks some of them. */
const TOTP_PARAMS = { algorithm: 'SHA1', digits: 6, period: 30 } as const;
/** Codes of the previous and next 30 s step are accepted too, for clock drift and typing time. */
const TOTP_WINDOW = 1;

export interface MfaKeys {
  /** Seals TOTP secrets at rest. */
  secrets: Buffer;
  /** Keys the recovery code hashes. */
  recoveryCodes: Buffer;
}

export interface MfaStatus {
  /** `pending`: enrolled but not yet confirmed with a code, so not asked for at sign-in. */
  totp: 'off' | 'pending' | 'on';
  recoveryCodesLeft: number;
}

interface TotpRow {
  secret: string;
  confirmed: unknown;
  last_step: number | string | null;
}

const wrongCode = () => new ApiError('invalid_credentials', 'the code is wrong, expired or was already used');

/** Digits only, or a recovery code with its dash and any spaces or case the user typed. */
function normaliseCode(code: string): { totp: string } | { recovery: string } {
  const compact = code.replace(/[\s-]/g, '').toLowerCase();
  return /^\d{6}$/.test(compact) ? { totp: compact } : { recovery: compact };
}

/** What a code was checked for: written to the audit log with a failure or a recovery code's use. */
type CodePurpose = 'sign_in' | 'confirm' | 'disable' | 'regenerate';

export class MfaService {
  constructor(
    private readonly db: Database,
    private readonly keys: MfaKeys,
    /** Shown by authenticator apps above the account name (GALLEY_MFA_ISSUER). */
    private readonly issuer: string,
    private readonly audit: AuditLog,
    private readonly limiter: RateLimiter,
  ) {}

  /**
   * Every path that checks a code goes through here: `429` while the account or the client address
   * must wait; a wrong code counts against both and is audited; a right one clears the account's
   * counter, and a recovery code's use is audited (the owner should know one is gone).
   */
  private async guarded<T>(userId: string, meta: SessionMeta, purpose: CodePurpose, attempt: () => Promise<{ result: T; via: 'totp' | 'recovery' }>): Promise<T> {
    const client = meta.ip ?? 'unknown';
    await this.limiter.check(POLICIES.mfaClient, client);
    await this.limiter.check(POLICIES.mfaAccount, userId);
    let outcome: { result: T; via: 'totp' | 'recovery' };
    try {
      outcome = await attempt();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'invalid_credentials') {
        await this.audit.record({ action: 'mfa.failed', user: userId, meta, detail: { purpose } });
        await this.limiter.hit(POLICIES.mfaClient, client);
        if (await this.limiter.hit(POLICIES.mfaAccount, userId)) await this.audit.record({ action: 'mfa.rate_limited', user: userId, meta, detail: { purpose } });
      }
      throw err;
    }
    await this.limiter.reset(POLICIES.mfaAccount, userId);
    if (outcome.via === 'recovery') {
      await this.audit.record({ action: 'mfa.recovery_code_used', user: userId, meta, detail: { purpose, left: (await this.status(userId)).recoveryCodesLeft } });
    }
    return outcome.result;
  }

  async status(userId: string): Promise<MfaStatus> {
    const row = await this.totpRow(userId, this.db);
    const p = new SqlParams(this.db.dialect);
    const left = await this.db.get<{ n: number | string }>(
      `SELECT COUNT(*) AS n FROM "_mfa_recovery_codes" WHERE "user_id" = ${p.add(userId)} AND "used" IS NULL`,
      p.values,
    );
    return { totp: !row ? 'off' : row.confirmed ? 'on' : 'pending', recoveryCodesLeft: Number(left?.n ?? 0) };
  }

  /** Whether a sign-in of this user must pass a second factor. */
  async required(userId: string): Promise<boolean> {
    return (await this.status(userId)).totp === 'on';
  }

  /**
   * Starts (or restarts) TOTP enrolment with a fresh secret. It takes effect only once confirmed
   * with a code from the app, so a user who never scans it is not locked out.
   */
  async beginTotp(user: AuthUser, meta: SessionMeta = {}): Promise<{ secret: string; otpauthUri: string }> {
    const existing = await this.totpRow(user.id, this.db);
    if (existing?.confirmed) throw new ApiError('conflict', 'TOTP is already on: turn it off (DELETE /mfa/totp) before enrolling again');
    const secret = new Secret({ size: 20 });
    const sealed = seal(this.keys.secrets, secret.base32, user.id);
    const p = new SqlParams(this.db.dialect);
    const stored = await this.db.run(
      `INSERT INTO "_mfa_totp" ("user_id", "secret", "confirmed", "last_step", "created") VALUES (${p.add(user.id)}, ${p.add(sealed)}, NULL, NULL, ${p.add(new Date().toISOString())})
       ON CONFLICT ("user_id") DO UPDATE SET "secret" = excluded."secret", "last_step" = NULL, "created" = excluded."created" WHERE "_mfa_totp"."confirmed" IS NULL`,
      p.values,
    );
    // No row changed: a confirmation landed between the check above and this write.
    if (stored.changes !== 1) throw new ApiError('conflict', 'TOTP is already on');
    await this.audit.record({ action: 'mfa.enrolment_started', user: user.id, meta });
    const totp = new TOTP({ ...TOTP_PARAMS, issuer: this.issuer, label: user.email, secret });
    return { secret: secret.base32, otpauthUri: totp.toString() };
  }

  /** Confirms a pending enrolment with a code from the app; returns fresh recovery codes (shown once). */
  async confirmTotp(userId: string, code: string, meta: SessionMeta = {}): Promise<string[]> {
    const codes = await this.guarded(userId, meta, 'confirm', () =>
      this.db.transaction(async (tx) => {
        const row = await this.totpRow(userId, tx);
        if (!row) throw new ApiError('conflict', 'there is no TOTP enrolment to confirm: start one with POST /mfa/totp');
        if (row.confirmed) throw new ApiError('conflict', 'TOTP is already on');
        const parsed = normaliseCode(code);
        if (!('totp' in parsed) || !(await this.acceptTotp(userId, row, parsed.totp, tx))) throw wrongCode();
        const p = new SqlParams(this.db.dialect);
        await tx.run(`UPDATE "_mfa_totp" SET "confirmed" = ${p.add(new Date().toISOString())} WHERE "user_id" = ${p.add(userId)}`, p.values);
        return { result: await this.replaceRecoveryCodes(userId, tx), via: 'totp' as const };
      }),
    );
    await this.audit.record({ action: 'mfa.enabled', user: userId, meta });
    return codes;
  }

  /** Turns MFA off; needs a current code (TOTP or recovery), so a stolen session alone cannot. */
  async disable(userId: string, code: string, meta: SessionMeta = {}): Promise<void> {
    await this.guarded(userId, meta, 'disable', () =>
      this.db.transaction(async (tx) => {
        if (!(await this.totpRow(userId, tx))?.confirmed) throw ApiError.notFound('TOTP for this account');
        const via = await this.checkCode(userId, code, tx);
        for (const table of ['_mfa_totp', '_mfa_recovery_codes']) {
          const p = new SqlParams(this.db.dialect);
          await tx.run(`DELETE FROM "${table}" WHERE "user_id" = ${p.add(userId)}`, p.values);
        }
        return { result: undefined, via };
      }),
    );
    await this.audit.record({ action: 'mfa.disabled', user: userId, meta });
  }

  /** New recovery codes in place of the old ones (which stop working); needs a current code. */
  async regenerateRecoveryCodes(userId: string, code: string, meta: SessionMeta = {}): Promise<string[]> {
    const codes = await this.guarded(userId, meta, 'regenerate', () =>
      this.db.transaction(async (tx) => {
        if (!(await this.totpRow(userId, tx))?.confirmed) throw ApiError.notFound('TOTP for this account');
        const via = await this.checkCode(userId, code, tx);
        return { result: await this.replaceRecoveryCodes(userId, tx), via };
      }),
    );
    await this.audit.record({ action: 'mfa.recovery_codes_replaced', user: userId, meta });
    return codes;
  }

  /** The second step of a sign-in: a code of a user with MFA on, rate-limited and audited like the others. */
  async verify(userId: string, code: string, meta: SessionMeta = {}): Promise<void> {
    await this.guarded(userId, meta, 'sign_in', async () => ({ result: undefined, via: await this.checkCode(userId, code, this.db) }));
  }

  /**
   * Checks a second-factor code of a user with MFA on: a TOTP code not used before, or an unused
   * recovery code (which is used up); which one it was. Throws `invalid_credentials` otherwise.
   */
  private async checkCode(userId: string, code: string, via: Queryable): Promise<'totp' | 'recovery'> {
    const parsed = normaliseCode(code);
    if ('totp' in parsed) {
      const row = await this.totpRow(userId, via);
      if (!row?.confirmed || !(await this.acceptTotp(userId, row, parsed.totp, via))) throw wrongCode();
      return 'totp';
    }
    if (parsed.recovery.length !== RECOVERY_LENGTH) throw wrongCode();
    const p = new SqlParams(this.db.dialect);
    const used = await via.run(
      `UPDATE "_mfa_recovery_codes" SET "used" = ${p.add(new Date().toISOString())} WHERE "user_id" = ${p.add(userId)} AND "code_hash" = ${p.add(this.recoveryHash(userId, parsed.recovery))} AND "used" IS NULL`,
      p.values,
    );
    if (used.changes !== 1) throw wrongCode();
    return 'recovery';
  }

  private async totpRow(userId: string, via: Queryable): Promise<TotpRow | undefined> {
    const p = new SqlParams(this.db.dialect);
    return via.get<TotpRow>(`SELECT "secret", "confirmed", "last_step" FROM "_mfa_totp" WHERE "user_id" = ${p.add(userId)}`, p.values);
  }

  /**
   * Accepts a TOTP code only if its time step is later than the last one accepted: the guarded
   * UPDATE makes this atomic, so a code seen by an attacker (or sent twice at once) works only once.
   */
  private async acceptTotp(userId: string, row: TotpRow, token: string, via: Queryable): Promise<boolean> {
    const base32 = unseal(this.keys.secrets, row.secret, userId);
    if (base32 === undefined) throw new Error(`the TOTP secret of user ${userId} does not open with the current server secret`);
    const now = Date.now();
    const delta = TOTP.validate({ ...TOTP_PARAMS, token, secret: Secret.fromBase32(base32), timestamp: now, window: TOTP_WINDOW });
    if (delta === null) return false;
    const step = TOTP.counter({ period: TOTP_PARAMS.period, timestamp: now }) + delta;
    const p = new SqlParams(this.db.dialect);
    const accepted = await via.run(
      `UPDATE "_mfa_totp" SET "last_step" = ${p.add(step)} WHERE "user_id" = ${p.add(userId)} AND ("last_step" IS NULL OR "last_step" < ${p.add(step)})`,
      p.values,
    );
    return accepted.changes === 1;
  }

  private async replaceRecoveryCodes(userId: string, via: Queryable): Promise<string[]> {
    const del = new SqlParams(this.db.dialect);
    await via.run(`DELETE FROM "_mfa_recovery_codes" WHERE "user_id" = ${del.add(userId)}`, del.values);
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => newRecoveryCode());
    const p = new SqlParams(this.db.dialect);
    const rows = codes.map((code) => `(${p.add(userId)}, ${p.add(this.recoveryHash(userId, code.replace('-', '')))}, NULL)`);
    await via.run(`INSERT INTO "_mfa_recovery_codes" ("user_id", "code_hash", "used") VALUES ${rows.join(', ')}`, p.values);
    return codes;
  }

  private recoveryHash(userId: string, compactCode: string): string {
    return crypto.createHmac('sha256', this.keys.recoveryCodes).update(`${userId}:${compactCode}`).digest('hex');
  }
}

/** `xxxxx-xxxxx` from RECOVERY_ALPHABET (32 letters: a byte modulo 32 has no bias). */
function newRecoveryCode(): string {
  const chars = [...crypto.randomBytes(RECOVERY_LENGTH)].map((b) => RECOVERY_ALPHABET[b % 32]).join('');
  return `${chars.slice(0, 5)}-${chars.slice(5)}`;
}
