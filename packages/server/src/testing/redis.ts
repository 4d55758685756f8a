// Redis for the suites that need it: used when it answers at GALLEY_TEST_REDIS_URL (default
// 127.0.0.1:6379), skipped with a visible reason otherwise — and required under CI=true.

import crypto from 'node:crypto';
import { Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.GALLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let reachable: Promise<boolean> | undefined;

function redisReachable(): Promise<boolean> {
  return (reachable ??= (async () => {
    const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => {});
    try {
      await redis.connect();
      return (await redis.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      redis.disconnect();
    }
  })());
}

/** The Redis URL to test with, or the reason the suite is skipped; under CI=true a missing Redis throws. */
export async function testRedis(): Promise<{ url?: string; skipReason?: string }> {
  if (await redisReachable()) return { url: TEST_REDIS_URL };
  const reason = `Redis not reachable at ${TEST_REDIS_URL.replace(/\/\/[^@]*@/, '//')}: Redis suites skipped`;
  if (process.env.CI === 'true') throw new Error(`${reason} — but CI=true requires it`);
  return { skipReason: reason };
}

/** A key prefix of its own for one test, and a function that deletes every key under it. */
export function uniqueRedisPrefix(url: string): { prefix: string; cleanup(): Promise<void> } {
  const prefix = `galley-test:${crypto.randomBytes(6).toString('hex')}:`;
  return {
    prefix,
    async cleanup() {
      const redis = new Redis(url);
      try {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length) await redis.del(...keys);
      } finally {
        redis.disconnect();
      }
    },
  };
}
