// Tails the change log for this instance: woken by its own commits, by the bus when another
// instance commits, and by a slow poll as a safety net (which also numbers orphaned pending changes); hands every change, in order and once, to
// its listeners (the realtime hub). Each instance keeps its own position: nothing is shared in memory.

import crypto from 'node:crypto';
import { BUS_CHANNELS, type Bus } from '../bus/bus.ts';
import type { Change, ChangeLog } from './changes.ts';

export interface FeedListener {
  /**
   * Called for each change in order: `prepare` may await (loading what the checks need); `deliver`
   * then runs without a pause, so the set of receivers cannot change half-way.
   */
  prepare(change: Change): Promise<void>;
  deliver(change: Change): void;
  /** The log was pruned past this instance's position: whoever relied on continuity must resynchronise. */
  lost(): void;
}

const READ_BATCH = 500;
const POLL_MS = 2000;

export class ChangeFeed {
  #position = 0;
  private draining = false;
  private again = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private stopCommitted: (() => void) | undefined;
  private publishing = false;
  private publishAgain = false;
  private readonly listeners = new Set<FeedListener>();
  /** Sent with this instance's announcements, so it does not read again on hearing its own. */
  private readonly instanceId = crypto.randomUUID();

  constructor(
    private readonly log: ChangeLog,
    private readonly bus: Bus,
    private readonly onError: (err: unknown) => void,
  ) {}

  /**
   * The last change handed to listeners, or being handed: it is set before `prepare`, so whoever
   * joins while a change is in flight starts after it (and has seen it committed), and a replay that
   * has caught up to it may go live without missing or repeating it.
   */
  get position(): number {
    return this.#position;
  }

  async start(): Promise<void> {
    this.#position = await this.log.head();
    this.stopCommitted = this.log.onCommitted((head, changes) => {
      this.committed(head, changes);
      this.announce();
    });
    await this.bus.subscribe(BUS_CHANNELS.changes, (message) => {
      if (message !== this.instanceId) this.wake();
    });
    // The poll also numbers changes whose writer died between its commit and their numbering.
    this.pollTimer = setInterval(() => void this.log.numberCommitted().then(() => this.wake()), POLL_MS).unref();
  }

  stop(): void {
    clearInterval(this.pollTimer);
    this.stopCommitted?.();
  }

  add(listener: FeedListener): void {
    this.listeners.add(listener);
  }

  /** Reads and hands out whatever the log holds beyond the position; coalesces overlapping wake-ups. */
  wake(): void {
    this.run([]);
  }

  /**
   * A commit of this process: when its changes are exactly the next ones after the position, they
   * are handed out as they are, without reading them back from the log; otherwise the log is read.
   */
  private committed(head: number, changes: readonly Change[]): void {
    this.run(head - changes.length === this.#position ? changes : []);
  }

  private run(known: readonly Change[]): void {
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = true;
    void this.drain(known)
      .catch(this.onError)
      .finally(() => {
        this.draining = false;
        // A wake-up that came after drain() last looked, while its promise was settling.
        if (this.again) this.wake();
      });
  }

  private async drain(known: readonly Change[]): Promise<void> {
    for (const change of known) await this.handOut(change);
    // Read the log only when something may be there that `known` did not carry.
    if (known.length > 0 && !this.again) return;
    do {
      this.again = false;
      for (;;) {
        const { changes, complete } = await this.log.read(this.#position, READ_BATCH);
        if (!complete) this.listeners.forEach((l) => l.lost());
        if (changes.length === 0) break;
        for (const change of changes) await this.handOut(change);
        if (changes.length < READ_BATCH) break;
      }
    } while (this.again);
  }

  private async handOut(change: Change): Promise<void> {
    this.#position = change.seq;
    for (const l of this.listeners) await l.prepare(change);
    for (const l of this.listeners) l.deliver(change);
  }

  /** Tells the other instances the log moved: one message in flight at a time, the rest coalesced. */
  private announce(): void {
    if (this.publishing) {
      this.publishAgain = true;
      return;
    }
    this.publishing = true;
    this.publishAgain = false;
    this.bus
      .publish(BUS_CHANNELS.changes, this.instanceId)
      .catch(this.onError)
      .finally(() => {
        this.publishing = false;
        if (this.publishAgain) this.announce();
      });
  }
}
