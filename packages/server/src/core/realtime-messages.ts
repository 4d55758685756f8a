// The realtime envelopes (contract §8): client frames parsed and checked into typed messages (a bad
// frame is an ApiError the connection answers with an `error` envelope), and server envelopes written.

import { REALTIME_LIMITS, type SubscribeData } from '@galley/protocol';
import { ApiError } from './api-error.ts';
import { RECORD_ID_PATTERN } from './record-validation.ts';

export type ClientRequest =
  | { type: 'auth'; token: string }
  | { type: 'subscribe'; data: SubscribeData }
  | { type: 'unsubscribe'; id: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkSubscriptionId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > REALTIME_LIMITS.maxSubscriptionId) {
    throw new ApiError('bad_request', `data.id must be a string of 1 to ${REALTIME_LIMITS.maxSubscriptionId} characters`);
  }
  return id;
}

function parseSubscribe(data: Record<string, unknown>): SubscribeData {
  const { id, collection, recordId, filter, since, ...rest } = data;
  const sub = checkSubscriptionId(id);
  const fail = (detail: string) => new ApiError('bad_request', detail, undefined, { extra: { sub } });
  const unknown = Object.keys(rest);
  if (unknown.length) throw fail(`data.${unknown[0]!.slice(0, 100)} is not a subscription property`);
  if (typeof collection !== 'string' || collection.length === 0 || collection.length > 63) throw fail('data.collection must name a collection');
  if (recordId !== undefined && (typeof recordId !== 'string' || !RECORD_ID_PATTERN.test(recordId))) throw fail('data.recordId must be a record id');
  if (filter !== undefined && (typeof filter !== 'string' || filter.length > REALTIME_LIMITS.maxFilterLength)) {
    throw fail(`data.filter must be a string of at most ${REALTIME_LIMITS.maxFilterLength} characters`);
  }
  if (since !== undefined && (typeof since !== 'number' || !Number.isSafeInteger(since) || since < 0)) throw fail('data.since must be a change-log position (an integer ≥ 0)');
  return { id: sub, collection, recordId, filter: filter === '' ? undefined : filter, since };
}

/** Parses one text frame; throws ApiError('bad_request') naming what is wrong. */
export function parseClientFrame(text: string): ClientRequest {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    throw new ApiError('bad_request', 'the frame is not valid JSON');
  }
  if (!isObject(message) || typeof message.type !== 'string') throw new ApiError('bad_request', 'a message is an object {type, data}');
  const data = message.data;
  if (!isObject(data)) throw new ApiError('bad_request', `${message.type.slice(0, 50)}: data must be an object`);
  switch (message.type) {
    case 'auth':
      if (typeof data.token !== 'string' || data.token.length === 0 || data.token.length > 512) throw new ApiError('bad_request', 'auth: data.token must be a session token');
      return { type: 'auth', token: data.token };
    case 'subscribe':
      return { type: 'subscribe', data: parseSubscribe(data) };
    case 'unsubscribe':
      return { type: 'unsubscribe', id: checkSubscriptionId(data.id) };
    default:
      throw new ApiError('bad_request', `unknown message type "${message.type.slice(0, 50)}" (auth, subscribe, unsubscribe)`);
  }
}

const now = () => new Date().toISOString();

export function envelope(type: string, data: unknown): string {
  return JSON.stringify({ type, data, ts: now() });
}

export function errorEnvelope(error: ApiError): string {
  return envelope('error', error.toProblem());
}

/** A text message as the pieces of UTF-8 it is made of, in order: written as their bytes joined. */
export type TextMessage = readonly Uint8Array[];

/**
 * An event's envelope as two pieces of UTF-8 bytes, written one after the other: the head carries the
 * subscription id (made once per subscription), the tail the change and its record (serialised once per
 * change and audience). Fan-out to thousands of sockets then splices bytes instead of building,
 * measuring and copying a string per socket.
 */
export function eventHead(subJson: string): Buffer {
  return Buffer.from(`{"type":"event","data":{"sub":${subJson}`);
}

export function eventTail(action: string, recordJson: string, seq: number, ts: string): Buffer {
  return Buffer.from(`,"action":"${action}","record":${recordJson},"seq":${seq}},"ts":"${ts}"}`);
}
