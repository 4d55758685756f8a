// Rate limits for the account endpoints: named policies, counted per client address and per
// account. Past a policy's free attempts each further one must wait twice as long as the last
// (1 s, 2 s, 4 s … up to a cap): a progressive delay, never a lockout an attacker could use to
// keep a victim out. Counters live in memory, or in Redis when instances share them
// (rate-limit/memory.ts, rate-limit/redis.ts).

import crypto from 'node:crypto';
import { ApiError } from './api-error.ts';

export interface LimitPolicy {
  /** Part of the counter's key: distinct per policy. */
  name: string;
  /** Attempts allowed in a row within the window; the one after them waits `baseDelayMs`. */
  free: number;
  /** Counters are forgotten this long after the last attempt. */
  windowMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

const MINUTE = 60_000;

/** The policies of the account endpoints; MFA and OAuth use theirs through the same limiter. */
export const POLICIES = {
  /** Failed sign-ins of one account: a short cap, so the owner is never kept out for long. */
  loginAccount: { name: 'login-account', free: 5, windowMs: 15 * MINUTE, baseDelayMs: 1000, maxDelayMs: MINUTE },
  /** Failed sign-ins from one client address, whatever the account. */
  loginClient: { name: 'login-client', free: 20, windowMs: 15 * MINUTE, baseDelayMs: 1000, maxDelayMs: 15 * MINUTE },
  /** Registrations from one client address. */
  register: { name: 'register', free: 10, windowMs: 60 * MINUTE, baseDelayMs: 1000, maxDelayMs: 60 * MINUTE },
  /** Reset and verification mails asked for by one client address. */
  mailClient: { name: 'mail-client', free: 10, windowMs: 60 * MINUTE, baseDelayMs: 1000, maxDelayMs: 60 * MINUTE },
  /** Reset and verification mails to one address, whoever asks (no mail bombing). */
  mailAccount: { name: 'mail-account', free: 3, windowMs: 60 * MINUTE, baseDelayMs: 30_000, maxDelayMs: 60 * MINUTE },
  /** Tokens tried by one client address (reset and verification confirmations). */
  confirmClient: { name: 'confirm-client', free: 20, windowMs: 15 * MINUTE, baseDelayMs: 1000, maxDelayMs: 15 * MINUTE },
  /** Wrong second-factor codes for one account (sign-in, confirmation, turning MFA off, new recovery codes). */
  mfaAccount: { name: 'mfa-account', free: 5, windowMs: 15 * MINUTE, baseDelayMs: 1000, maxDelayMs: 5 * MINUTE },
  /** Wrong second-factor codes from one client address, whatever the account. */
  mfaClient: { name: 'mfa-client', free: 20, windowMs: 15 * MINUTE, baseDelayMs: 1000, maxDelayMs: 15 * MINUTE },
  /** OAuth sign-ins started, and callbacks that failed, from one client address. */
  oauthClient: { name: 'oauth-client', free: 30, windowMs: 15 * MINUTE, baseDelayMs: 1000, maxDelayMs: 15 * MINUTE },
} satisfies Record<string, LimitPolicy>;

/** The wait imposed by the n-th counted attempt on the next one: none for the first `free - 1`. */
export function delayAfter(policy: LimitPolicy, count: number): number {
  if (count < policy.free) return 0;
  return Math.min(policy.baseDelayMs * 2 ** Math.min(count - policy.free, 30), policy.maxDelayMs);
}

/**
 * The counters' store did not answer in time (Redis down or hung): the endpoint answers
 * `503 unavailable` with Retry-After. It never lets the attempt through uncounted (that would switch
 * the limits off for whoever can take Redis down) and never hangs the request.
 */
export class RateLimitUnavailableError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('the rate limit store did not answer', options);
    this.name = 'RateLimitUnavailableError';
  }
}

/** Where counters live. Keys are already hashed and prefixed; times are the store's own clock. */
export interface RateLimitStore {
  /** Counts an attempt; the delay it imposes on the next one (0 for none). */
  hit(key: string, policy: LimitPolicy): Promise<number>;
  /** How long the key must still wait (0 for not at all), without counting anything. */
  waitFor(key: string): Promise<number>;
  reset(key: string): Promise<void>;
  close(): Promise<void>;
}

/** GALLEY_RATE_LIMITS=off: counts nothing, limits nothing (test suites, or a proxy that limits already). */
export const NO_LIMITS: RateLimitStore = {
  hit: async () => 0,
  waitFor: async () => 0,
  reset: async () => {},
  close: async () => {},
};

export class RateLimiter {
  constructor(private readonly store: RateLimitStore) {}

  /** Subjects (addresses, emails) are hashed: the store never holds an address in clear. */
  private key(policy: LimitPolicy, subject: string): string {
    return `${policy.name}:${crypto.createHash('sha256').update(subject).digest('base64url')}`;
  }

  /** `429 rate_limited` with Retry-After while the subject must wait. */
  async check(policy: LimitPolicy, subject: string): Promise<void> {
    const wait = await this.store.waitFor(this.key(policy, subject));
    if (wait > 0) {
      const seconds = Math.max(1, Math.ceil(wait / 1000));
      throw new ApiError('rate_limited', `too many attempts; retry after ${seconds} s`, undefined, { headers: { 'retry-after': String(seconds) } });
    }
  }

  /** Counts an attempt; true when this one started (or lengthened) a delay. */
  async hit(policy: LimitPolicy, subject: string): Promise<boolean> {
    return (await this.store.hit(this.key(policy, subject), policy)) > 0;
  }

  /** check, then hit: for endpoints where every attempt counts (registration, mail requests). */
  async consume(policy: LimitPolicy, subject: string): Promise<void> {
    await this.check(policy, subject);
    await this.hit(policy, subject);
  }

  async reset(policy: LimitPolicy, subject: string): Promise<void> {
    await this.store.reset(this.key(policy, subject));
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
