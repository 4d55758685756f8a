// Whether the Redis suites run: when Redis answers at GALLEY_TEST_REDIS_URL (default 127.0.0.1:6379);
// under CI=true a missing Redis is a failure, never a skip. Each test uses its own key prefix.

import crypto from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_TEST_URL = process.env.GALLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let reachable: Promise<boolean> | undefined;

function redisReachable(): Promise<boolean> {
  return (reachable ??= (async () => {
    const client = new Redis(REDIS_TEST_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  })());
}

/** undefined when Redis suites run; otherwise why they are skipped (throws under CI=true). */
export async function redisSkipReason(): Promise<string | undefined> {
  if (await redisReachable()) return undefined;
  const reason = `Redis not reachable at ${REDIS_TEST_URL.replace(/\/\/[^@]*@/, '//')}: Redis suites skipped`;
  if (process.env.CI === 'true') throw new Error(`${reason} — but CI=true requires them`);
  return reason;
}

/** A key prefix no other test shares. */
export function uniqueRedisPrefix(): string {
  return `galley_t_${crypto.randomBytes(6).toString('hex')}:`;
}
