// The realtime protocol of contract.md §8: the envelopes on `GET /api/v1/realtime`, and the close
// codes and limits the server applies (docs/realtime.md explains each).

import type { Problem } from './errors.ts';
import type { BaseRecord } from './records.ts';

/** Every message either way: `{type, data, ts}`. */
export interface Envelope<Type extends string, Data> {
  type: Type;
  data: Data;
  /** ISO time the message was sent (optional from clients). */
  ts?: string;
}

export interface SubscribeData {
  /** Chosen by the client, unique on its connection; events name it as `sub`. */
  id: string;
  collection: string;
  /** Only this record's changes (checked against the view rule instead of the list rule). */
  recordId?: string;
  /** Only changes whose record matches this expression (contract §6). */
  filter?: string;
  /** Replay every change after this change-log position first, then go live. */
  since?: number;
}

export type ClientMessage =
  | Envelope<'auth', { token: string }>
  | Envelope<'subscribe', SubscribeData>
  | Envelope<'unsubscribe', { id: string }>;

export type RealtimeAction = 'create' | 'update' | 'delete';

export interface EventData<T = BaseRecord> {
  sub: string;
  action: RealtimeAction;
  /** The record as the subscriber may see it; for a delete only `{id}`. */
  record: T | { id: string };
  seq: number;
}

export type ServerMessage<T = BaseRecord> =
  | Envelope<'subscribed', { id: string; seq: number }>
  | Envelope<'event', EventData<T>>
  | Envelope<'resync_required', { sub: string }>
  /** A problem (contract §2); `sub` names the subscription it concerns, when there is one. */
  | Envelope<'error', Problem & { sub?: string }>;

/** The close codes the server uses, besides the standard 1001 (shutting down) and 1009 (frame too large). */
export const REALTIME_CLOSE = {
  goingAway: 1001,
  frameTooLarge: 1009,
  /** The client did not answer a ping in time. */
  pingTimeout: 4000,
  /** The session the connection was authenticated with ended (logout, revocation, expiry). */
  sessionEnded: 4001,
  /** The client read too slowly: its send buffer passed the server's bound. */
  tooSlow: 4002,
} as const;

export const REALTIME_LIMITS = {
  /** Largest frame a client may send, in bytes; larger ones close the connection with 1009. */
  maxFrameBytes: 64 * 1024,
  /** Subscriptions one connection may hold at once. */
  maxSubscriptions: 100,
  /** Longest subscription id. */
  maxSubscriptionId: 100,
  /** Longest filter expression. */
  maxFilterLength: 8192,
} as const;
