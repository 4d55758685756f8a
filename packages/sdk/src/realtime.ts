// Realtime (contract.md §8): one WebSocket per client, shared by every subscription. When it
// drops, it reconnects with exponential backoff and full jitter and resubscribes with `since` =
// the last `seq` each subscription saw, so nothing is lost; events at or below it are dropped, so
// nothing is applied twice.

import type { BaseRecord, EventData, RealtimeAction, ServerMessage } from '@galley/protocol';
import { GalleyError } from './errors.ts';
import type { Transport } from './transport.ts';

export interface RealtimeEvent<T = BaseRecord> {
  action: RealtimeAction;
  /** The record as you may see it; a delete carries only `{id}`. */
  record: T | { id: string };
  seq: number;
}

export interface SubscribeOptions {
  /** Only this record's changes. */
  recordId?: string;
  /** Only changes whose record matches (build it with galley.filter). */
  filter?: string;
  /** The server's log no longer reaches back to the last event seen: refetch, events continue after. */
  onResync?: () => void;
  /** A problem the server reported for this subscription after it started. */
  onError?: (error: GalleyError) => void;
}

/** The part of the WebSocket API used here: the browser's, Node ≥ 22's, or `ws`. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

interface Subscription {
  id: string;
  collection: string;
  options: SubscribeOptions;
  handler: (event: RealtimeEvent<never>) => void;
  /** The last change-log position applied; undefined until the first `subscribed`. */
  seq?: number;
  /** Settles the subscribe() call on the first answer. */
  started?: { resolve: () => void; reject: (err: unknown) => void };
}

const OPEN = 1;
const MAX_BACKOFF_MS = 30_000;

export class Realtime {
  private socket: WebSocketLike | undefined;
  private readonly subs = new Map<string, Subscription>();
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private counter = 0;

  constructor(
    private readonly transport: Transport,
    private readonly WebSocketImpl: WebSocketConstructor | undefined,
    /** Backoff base in ms: the n-th retry waits a random time up to base · 2ⁿ (capped at 30 s). */
    private readonly backoffMs = 500,
  ) {}

  /** Resolves once the server confirms the subscription (rejects with its error); then call the result to stop. */
  subscribe<T>(collection: string, options: SubscribeOptions, handler: (event: RealtimeEvent<T>) => void): Promise<() => void> {
    const sub: Subscription = { id: `s${++this.counter}`, collection, options, handler: handler as Subscription['handler'] };
    this.subs.set(sub.id, sub);
    const started = new Promise<void>((resolve, reject) => (sub.started = { resolve, reject }));
    if (this.socket?.readyState === OPEN) this.sendSubscribe(sub);
    else this.connect();
    return started.then(() => () => this.unsubscribe(sub.id));
  }

  private unsubscribe(id: string): void {
    if (!this.subs.delete(id)) return;
    if (this.socket?.readyState === OPEN) this.send('unsubscribe', { id });
    if (this.subs.size === 0) this.shutdown();
  }

  /** Closes the socket and stops reconnecting (subscriptions are kept only while any exist). */
  private shutdown(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      socket.onclose = null;
      socket.close(1000, 'no subscriptions');
    }
  }

  private connect(): void {
    if (this.socket || this.timer) return;
    if (!this.WebSocketImpl) throw new TypeError('realtime: no global WebSocket here; pass options.WebSocket (for example `ws` in Node 20)');
    const url = this.transport.url('/api/v1/realtime').replace(/^http/, 'ws');
    const socket = new this.WebSocketImpl(url);
    this.socket = socket;
    socket.onopen = async () => {
      // Browsers send the session cookie with the handshake; a kept token goes in the first frame.
      const token = this.transport.cookies ? null : await this.transport.session.token();
      if (this.socket !== socket) return;
      if (token) this.send('auth', { token });
      for (const sub of this.subs.values()) this.sendSubscribe(sub);
    };
    socket.onmessage = (event) => this.receive(String(event.data));
    socket.onerror = () => {};
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (this.subs.size > 0) this.reconnectLater();
    };
  }

  private reconnectLater(): void {
    const delay = Math.random() * Math.min(MAX_BACKOFF_MS, this.backoffMs * 2 ** this.attempt++);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.connect();
    }, delay);
  }

  private send(type: string, data: unknown): void {
    this.socket!.send(JSON.stringify({ type, data }));
  }

  private sendSubscribe(sub: Subscription): void {
    const { recordId, filter } = sub.options;
    this.send('subscribe', { id: sub.id, collection: sub.collection, recordId, filter, since: sub.seq });
  }

  private receive(text: string): void {
    let message: ServerMessage;
    try {
      message = JSON.parse(text) as ServerMessage;
    } catch {
      return;
    }
    if (message.type === 'subscribed') {
      const sub = this.subs.get(message.data.id);
      if (!sub) return;
      this.attempt = 0;
      // With `since`, replayed events follow: keep our own position so none of them is skipped.
      sub.seq ??= message.data.seq;
      sub.started?.resolve();
      sub.started = undefined;
    } else if (message.type === 'event') {
      const data: EventData = message.data;
      const sub = this.subs.get(data.sub);
      if (!sub || (sub.seq !== undefined && data.seq <= sub.seq)) return;
      sub.seq = data.seq;
      sub.handler({ action: data.action, record: data.record as never, seq: data.seq });
    } else if (message.type === 'resync_required') {
      const sub = this.subs.get(message.data.sub);
      if (!sub) return;
      sub.seq = undefined;
      sub.options.onResync?.();
      if (this.socket?.readyState === OPEN) this.sendSubscribe(sub);
    } else if (message.type === 'error') {
      const { sub: id, ...problem } = message.data;
      const sub = id === undefined ? undefined : this.subs.get(id);
      if (!sub) return;
      const error = new GalleyError(problem.status, problem);
      if (sub.started) {
        this.subs.delete(sub.id);
        sub.started.reject(error);
        if (this.subs.size === 0) this.shutdown();
      } else {
        sub.options.onError?.(error);
      }
    }
  }
}
