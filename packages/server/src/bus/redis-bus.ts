// The Bus over Redis pub/sub (REDIS_URL): wake-ups between instances without PostgreSQL NOTIFY,
// whose commit-time queue lock every writer would otherwise share. One connection publishes, one
// subscribes (a subscribed Redis connection can do nothing else); channels carry a key prefix so
// several deployments (or test runs) can share one Redis.

import { Redis } from 'ioredis';
import type { Bus } from './bus.ts';

export class RedisBus implements Bus {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly listeners = new Map<string, Set<(message: string | undefined) => void>>();
  private readyOnce = false;

  constructor(url: string, private readonly prefix: string, onError: (err: unknown) => void) {
    // Commands fail fast while Redis is away (publishes are wake-ups: the poll covers for them).
    this.publisher = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
    this.subscriber = new Redis(url, { lazyConnect: true });
    this.publisher.on('error', onError);
    this.subscriber.on('error', onError);
    this.subscriber.on('message', (channel: string, message: string) => {
      this.listeners.get(channel.slice(this.prefix.length))?.forEach((fn) => fn(message));
    });
    // ioredis resubscribes after a reconnect; messages sent meanwhile are lost, so say so.
    this.subscriber.on('ready', () => {
      if (this.readyOnce) this.listeners.forEach((set) => set.forEach((fn) => fn(undefined)));
      this.readyOnce = true;
    });
  }

  /** Connects both connections; rejects when Redis does not answer. */
  async connect(): Promise<void> {
    await Promise.all([this.publisher.connect(), this.subscriber.connect()]);
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.publisher.publish(this.prefix + channel, message);
  }

  async subscribe(channel: string, listener: (message: string | undefined) => void): Promise<void> {
    let set = this.listeners.get(channel);
    if (!set) {
      this.listeners.set(channel, (set = new Set()));
      await this.subscriber.subscribe(this.prefix + channel);
    }
    set.add(listener);
  }

  async close(): Promise<void> {
    await Promise.all([this.publisher.quit().catch(() => {}), this.subscriber.quit().catch(() => {})]);
  }
}
