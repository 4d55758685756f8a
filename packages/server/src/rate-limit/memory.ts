// Rate-limit counters in this process: right for a single instance (with several, use Redis).

import { delayAfter, type LimitPolicy, type RateLimitStore } from '../core/rate-limit.ts';

interface Counter {
  count: number;
  /** Epoch ms until which the key must wait. */
  until: number;
  /** Epoch ms after which the counter is forgotten. */
  expires: number;
}

const SWEEP_ABOVE = 10_000;

export class MemoryRateLimitStore implements RateLimitStore {
  private readonly counters = new Map<string, Counter>();

  private live(key: string, now: number): Counter | undefined {
    const counter = this.counters.get(key);
    if (counter && counter.expires <= now) {
      this.counters.delete(key);
      return undefined;
    }
    return counter;
  }

  async hit(key: string, policy: LimitPolicy): Promise<number> {
    const now = Date.now();
    if (this.counters.size > SWEEP_ABOVE) for (const [k, c] of this.counters) if (c.expires <= now) this.counters.delete(k);
    const counter = this.live(key, now) ?? { count: 0, until: 0, expires: 0 };
    counter.count++;
    const delay = delayAfter(policy, counter.count);
    counter.until = now + delay;
    counter.expires = now + Math.max(policy.windowMs, delay);
    this.counters.set(key, counter);
    return delay;
  }

  async waitFor(key: string): Promise<number> {
    const now = Date.now();
    return Math.max(0, (this.live(key, now)?.until ?? 0) - now);
  }

  async reset(key: string): Promise<void> {
    this.counters.delete(key);
  }

  async close(): Promise<void> {}
}
