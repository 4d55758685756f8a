// The worker loop of the job queue and the webhook sender: claim as many due items as there are
// free slots, run each without waiting for the others, and claim again when a slot frees, when
// woken (a NOTIFY, a commit of this process) or at the next poll, the safety net for wake-ups
// that were missed. Overlapping wake-ups coalesce into one claim at a time. What is claimed and
// how it runs is the owner's: claims are leases in the owner's table.

import crypto from 'node:crypto';
import os from 'node:os';

export interface ClaimLoopOptions<T> {
  /** Items run at once by this instance. */
  concurrency: number;
  /** How often to claim when nothing woke the loop. */
  pollMs: number;
  /** Takes up to `limit` due items for this worker (fewer, or none, when fewer are due). */
  claim(limit: number): Promise<T[]>;
  /** Runs one claimed item; it reports its own failures (a rejection is passed to onError). */
  run(item: T): Promise<void>;
  /** A claim that failed (the database did not answer: the next poll tries again), or a run that threw. */
  onError(err: unknown): void;
}

/** Names this process among the workers sharing a database (`locked_by` columns). */
export function newWorkerId(): string {
  return `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`;
}

export class ClaimLoop<T> {
  readonly #running = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #started = false;
  #stopping = false;
  #ticking = false;
  #again = false;

  constructor(private readonly options: ClaimLoopOptions<T>) {}

  start(): void {
    this.#started = true;
    this.#stopping = false;
    this.wake();
  }

  /** Stops claiming, and resolves once the items in flight have finished. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  /** Claims now rather than at the next poll. */
  wake(): void {
    if (!this.#started || this.#stopping) return;
    void this.tick();
  }

  private async tick(): Promise<void> {
    if (this.#ticking) {
      this.#again = true;
      return;
    }
    this.#ticking = true;
    clearTimeout(this.#timer);
    try {
      do {
        this.#again = false;
        const free = this.options.concurrency - this.#running.size;
        if (free <= 0 || this.#stopping) break;
        const items = await this.options.claim(free);
        for (const item of items) this.track(this.options.run(item));
        // A full claim suggests more are due.
        if (items.length === free) this.#again = true;
      } while (this.#again && !this.#stopping);
    } catch (err) {
      this.options.onError(err);
    } finally {
      this.#ticking = false;
      if (!this.#stopping) this.#timer = setTimeout(() => void this.tick(), this.options.pollMs).unref();
    }
  }

  private track(run: Promise<void>): void {
    const tracked = run.catch((err: unknown) => this.options.onError(err));
    this.#running.add(tracked);
    void tracked.finally(() => {
      this.#running.delete(tracked);
      this.wake();
    });
  }
}
