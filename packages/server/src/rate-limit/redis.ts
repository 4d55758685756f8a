// Rate-limit counters in Redis (REDIS_URL), shared by every instance. Each operation is one Lua
// script, so concurrent attempts on several instances count exactly, on Redis's clock.

import { Redis } from 'ioredis';
import { RateLimitUnavailableError, type LimitPolicy, type RateLimitStore } from '../core/rate-limit.ts';

/** A command that takes longer than this is given up: the request answers 503 rather than hang. */
const COMMAND_TIMEOUT_MS = 1000;

// KEYS[1] counter; ARGV free, baseDelayMs, maxDelayMs, windowMs. Mirrors delayAfter() in core/rate-limit.ts.
const HIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local free, base, max, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local delay = 0
if n >= free then delay = math.min(base * 2 ^ math.min(n - free, 30), max) end
redis.call('HSET', KEYS[1], 'until', now + delay)
redis.call('PEXPIRE', KEYS[1], math.max(window, delay))
return delay
`;

const WAIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local u = redis.call('HGET', KEYS[1], 'until')
if not u then return 0 end
return math.max(0, tonumber(u) - now)
`;

type Scripted = Redis & {
  rateLimitHit(key: string, free: number, base: number, max: number, window: number): Promise<number>;
  rateLimitWait(key: string): Promise<number>;
};

export class RedisRateLimitStore implements RateLimitStore {
  private readonly redis: Scripted;

  constructor(url: string, private readonly prefix: string, onError: (err: unknown) => void) {
    // No offline queue: while the connection is down a command fails at once instead of waiting
    // for a reconnect; a connected Redis that stops answering is cut off by the command timeout.
    const redis = new Redis(url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, commandTimeout: COMMAND_TIMEOUT_MS });
    // ioredis reconnects by itself; a lost connection is logged, and the requests meanwhile answer 503.
    redis.on('error', onError);
    redis.defineCommand('rateLimitHit', { numberOfKeys: 1, lua: HIT });
    redis.defineCommand('rateLimitWait', { numberOfKeys: 1, lua: WAIT });
    this.redis = redis as Scripted;
  }

  private k(key: string): string {
    return `${this.prefix}rl:${key}`;
  }

  async hit(key: string, policy: LimitPolicy): Promise<number> {
    return Number(await answered(this.redis.rateLimitHit(this.k(key), policy.free, policy.baseDelayMs, policy.maxDelayMs, policy.windowMs)));
  }

  async waitFor(key: string): Promise<number> {
    return Number(await answered(this.redis.rateLimitWait(this.k(key))));
  }

  async reset(key: string): Promise<void> {
    await answered(this.redis.del(this.k(key)));
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** Redis's answer, or RateLimitUnavailableError when it gave none (down, timed out, refused). */
async function answered<T>(command: Promise<T>): Promise<T> {
  try {
    return await command;
  } catch (err) {
    throw new RateLimitUnavailableError({ cause: err });
  }
}
