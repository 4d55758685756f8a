// The realtime hub (contract §8): connections and their subscriptions, fed by the change feed.
// Each event is checked per audience (callers whose rules answer alike share one verdict) and its
// record serialised once per audience; `since` replays from the log, then the subscription goes live
// with no gap and no duplicate. Knows nothing of WebSockets: a connection is a RealtimeSocket.

import crypto from 'node:crypto';
import { ExprError, type Expr } from '@galley/expr';
import { REALTIME_CLOSE, REALTIME_LIMITS, type SubscribeData } from '@galley/protocol';
import type { Logger } from 'pino';
import { ApiError } from './api-error.ts';
import { AuthService, sessionTokenHash, type SessionsEnded } from './auth.ts';
import { ANONYMOUS, callerFor, type Caller } from './caller.ts';
import type { ChangeFeed, FeedListener } from './change-feed.ts';
import type { Change, ChangeLog } from './changes.ts';
import type { CollectionDef, RuleName } from './collection-model.ts';
import type { CollectionService } from './collections.ts';
import { parseCached, ruleAccess } from './record-access.ts';
import { visibleRecord } from './record-rows.ts';
import { EventAccess, followsRelations, LOOKUP_ROUNDS, RelationLookups, type Audience, type RecordLoader } from './realtime-access.ts';
import { envelope, errorEnvelope, eventHead, eventTail, parseClientFrame, type TextMessage } from './realtime-messages.ts';
import { DatabaseUnavailableError } from '../db/database.ts';

/** The one thing the hub needs of a connection. */
export interface RealtimeSocket {
  send(text: string): void;
  /** Bytes queued for the client and not yet written to the network. */
  readonly bufferedAmount: number;
  ping(): void;
  close(code: number, reason: string): void;
  /** Several messages, in order, written at once (one buffer and one system call, not one each). */
  sendAll(messages: readonly TextMessage[]): void;
}

export interface HubOptions {
  /** A client whose unsent bytes pass this is closed with 4002. */
  maxBufferBytes: number;
  pingIntervalMs: number;
  /**
   * Events are written at most once per this many ms (GALLEY_REALTIME_FLUSH_MS; 0: each at once).
   * A quiet hub writes an event at once; a busy one gathers each client's events of the interval
   * into one write. The socket write is most of what a delivery costs, so under a stream of
   * changes this multiplies what one instance delivers, for at most this much added latency.
   */
  flushIntervalMs: number;
}

interface Subscription {
  id: string;
  /** The start of each of its events, up to and including its id (realtime-messages.ts eventHead). */
  eventHead: Buffer;
  client: RealtimeClient;
  collection: string;
  recordId?: string;
  /** Record subscriptions answer to the view rule, the others to the list rule. */
  rule: RuleName;
  filter?: Expr;
  filterText?: string;
  /** The last change-log position considered for this subscription. */
  cursor: number;
  replaying: boolean;
}

export class RealtimeClient {
  caller: Caller = ANONYMOUS;
  audience: Audience = { caller: ANONYMOUS, key: 'anon' };
  /** The session token the connection is authenticated with, to check it again when sessions end. */
  token: string | undefined;
  tokenHash: string | undefined;
  /** Checks the credential again the moment it expires (the periodic check would be up to a minute late). */
  expiryTimer: NodeJS.Timeout | undefined;
  readonly subscriptions = new Map<string, Subscription>();
  closed = false;
  /** Cleared at each ping, set by the pong. */
  alive = true;
  /** Frames are handled one after another, so `auth` then `subscribe` behave as sent. */
  queue: Promise<void> = Promise.resolve();
  /** Events waiting for the next flush, and their length in bytes. */
  outbox: TextMessage[] = [];
  outboxBytes = 0;

  constructor(readonly socket: RealtimeSocket) {}
}

/** One change's work shared by its subscribers: verdicts per audience, the event's tail per record variant. */
class DeliveryCache {
  readonly verdicts = new Map<string, boolean>();
  private full: Buffer | undefined;
  private withoutEmail: Buffer | undefined;
  private readonly ts = new Date().toISOString();

  constructor(
    readonly change: Change,
    private readonly def: CollectionDef,
  ) {}

  /** The event after the subscription id: the same bytes for every subscriber who sees the same record. */
  eventTail(caller: Caller): Buffer {
    const change = this.change;
    if (change.action === 'delete') return (this.full ??= this.tail({ id: change.recordId }));
    const visible = visibleRecord(this.def, change.record!, caller);
    if (visible === change.record) return (this.full ??= this.tail(visible));
    return (this.withoutEmail ??= this.tail(visible));
  }

  private tail(record: unknown): Buffer {
    return eventTail(this.change.action, JSON.stringify(record), this.change.seq, this.ts);
  }
}

const REPLAY_BATCH = 500;
const SESSION_RECHECK_MS = 60_000;
/** setTimeout's longest wait; a later expiry is checked again then, and rescheduled. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const DRAIN_POLL_MS = 10;
const DRAIN_TIMEOUT_MS = 30_000;

function audienceOf(caller: Caller): Audience {
  if (caller.superuser) return { caller, key: 'super' };
  if (!caller.user) return { caller, key: 'anon' };
  return { caller, key: `u:${crypto.hash('sha1', JSON.stringify(caller.user), 'base64')}` };
}

export class RealtimeHub implements FeedListener {
  private readonly clients = new Set<RealtimeClient>();
  private readonly byCollection = new Map<string, Set<Subscription>>();
  private readonly access: EventAccess;
  /** Related records loaded for the change being delivered. */
  private lookups = new RelationLookups();
  private readonly ruleRelations = new WeakMap<CollectionDef, Partial<Record<RuleName, boolean>>>();
  private timers: NodeJS.Timeout[] = [];
  /** Clients with events in their outbox; the pending flush, and when the last one ran. */
  private readonly unflushed = new Set<RealtimeClient>();
  private flushPending = false;
  private lastFlush = 0;

  constructor(
    private readonly deps: { collections: CollectionService; auth: AuthService; log: ChangeLog; feed: ChangeFeed; loadRecords: RecordLoader; logger: Logger },
    private readonly options: HubOptions,
  ) {
    this.access = new EventAccess(deps.collections);
  }

  get connections(): number {
    return this.clients.size;
  }

  start(): void {
    this.deps.feed.add(this);
    this.timers.push(setInterval(() => this.pingAll(), this.options.pingIntervalMs).unref());
    this.timers.push(setInterval(() => void this.recheckSessions(() => true), SESSION_RECHECK_MS).unref());
  }

  /** Closes every connection (1001) and stops the timers. */
  close(): void {
    this.timers.forEach(clearInterval);
    this.timers = [];
    for (const client of [...this.clients]) this.disconnect(client, REALTIME_CLOSE.goingAway, 'server shutting down');
  }

  /**
   * A new connection, authenticated at the handshake by `token` (cookie or bearer) when given;
   * `expires` is when that credential stops working.
   */
  connect(socket: RealtimeSocket, caller: Caller, token?: string, expires?: string | null): RealtimeClient {
    const client = new RealtimeClient(socket);
    this.setCaller(client, caller, token, expires);
    this.clients.add(client);
    return client;
  }

  /** A frame from the client (binary frames are refused: the protocol is JSON text). */
  receive(client: RealtimeClient, text: string | undefined): void {
    client.queue = client.queue.then(() => this.handle(client, text));
  }

  pong(client: RealtimeClient): void {
    client.alive = true;
  }

  /** The connection is gone (closed by either side): forget it. */
  forget(client: RealtimeClient): void {
    if (!this.clients.delete(client)) return;
    client.closed = true;
    this.discardOutbox(client);
    clearTimeout(client.expiryTimer);
    for (const sub of client.subscriptions.values()) this.byCollection.get(sub.collection)?.delete(sub);
    client.subscriptions.clear();
  }

  private disconnect(client: RealtimeClient, code: number, reason: string): void {
    // Events already accepted go out before the close frame, unless their backlog is the reason.
    if (code === REALTIME_CLOSE.tooSlow) this.discardOutbox(client);
    else this.flushClient(client);
    this.forget(client);
    client.socket.close(code, reason);
  }

  private setCaller(client: RealtimeClient, caller: Caller, token: string | undefined, expires?: string | null): void {
    client.caller = caller;
    client.audience = audienceOf(caller);
    client.token = caller.user ? token : undefined;
    client.tokenHash = client.token ? sessionTokenHash(client.token) : undefined;
    clearTimeout(client.expiryTimer);
    client.expiryTimer = undefined;
    if (client.token && expires) {
      const checked = client.token;
      const wait = Math.min(Math.max(0, new Date(expires).getTime() - Date.now()), MAX_TIMER_MS);
      client.expiryTimer = setTimeout(() => void this.recheckSessions((c) => c === client && c.token === checked), wait).unref();
    }
  }

  /** A reply or notice: after the client's waiting events, so the order stays as produced. */
  private send(client: RealtimeClient, text: string): void {
    if (client.closed) return;
    this.flushClient(client);
    client.socket.send(text);
    this.checkBacklog(client);
  }

  /** An event: into the client's outbox, written by the next flush. */
  private sendEvent(client: RealtimeClient, event: TextMessage): void {
    if (client.closed) return;
    client.outbox.push(event);
    for (const piece of event) client.outboxBytes += piece.length;
    if (this.options.flushIntervalMs === 0) {
      this.flushClient(client);
      return this.checkBacklog(client);
    }
    this.unflushed.add(client);
    // An outbox as large as the buffer limit is written now: the limit is judged on what the
    // socket could not take, as without batching.
    if (client.outboxBytes < this.options.maxBufferBytes) return this.scheduleFlush();
    this.flushClient(client);
    this.checkBacklog(client);
  }

  /** Bytes the client has not read yet: in the socket's buffer and in the outbox. */
  private unsent(client: RealtimeClient): number {
    return client.socket.bufferedAmount + client.outboxBytes;
  }

  /** Closes a client whose socket holds more unsent bytes than the limit (4002). */
  private checkBacklog(client: RealtimeClient): void {
    if (client.socket.bufferedAmount > this.options.maxBufferBytes) {
      this.disconnect(client, REALTIME_CLOSE.tooSlow, 'too slow: the unsent events passed the buffer limit');
    }
  }

  private scheduleFlush(): void {
    if (this.flushPending) return;
    this.flushPending = true;
    const wait = this.lastFlush + this.options.flushIntervalMs - Date.now();
    // setImmediate still gathers the events of the changes being handed out in this turn.
    if (wait <= 0) setImmediate(() => this.flush()).unref();
    else setTimeout(() => this.flush(), wait).unref();
  }

  private flush(): void {
    this.flushPending = false;
    this.lastFlush = Date.now();
    const clients = [...this.unflushed];
    this.unflushed.clear();
    for (const client of clients) {
      this.flushClient(client);
      if (!client.closed) this.checkBacklog(client);
    }
  }

  private flushClient(client: RealtimeClient): void {
    const { outbox, socket } = client;
    if (outbox.length === 0) return;
    this.discardOutbox(client);
    if (!client.closed) socket.sendAll(outbox);
  }

  private discardOutbox(client: RealtimeClient): void {
    client.outbox = [];
    client.outboxBytes = 0;
    this.unflushed.delete(client);
  }

  private sendError(client: RealtimeClient, err: unknown, sub?: string): void {
    let problem: ApiError;
    if (err instanceof ApiError) problem = err;
    else if (err instanceof ExprError) problem = new ApiError('invalid_filter', `filter: ${err.message}`, undefined, { position: err.position });
    else if (err instanceof DatabaseUnavailableError) problem = new ApiError('unavailable', 'the database is not answering; try again shortly');
    else {
      this.deps.logger.error({ err }, 'realtime message failed');
      problem = new ApiError('internal', 'an unexpected error occurred');
    }
    if (sub !== undefined && problem.extra?.sub === undefined) problem = new ApiError(problem.code, problem.detail, problem.fieldErrors, { status: problem.status, position: problem.position, extra: { ...problem.extra, sub } });
    this.send(client, errorEnvelope(problem));
  }

  private async handle(client: RealtimeClient, text: string | undefined): Promise<void> {
    if (client.closed) return;
    let sub: string | undefined;
    try {
      if (text === undefined) throw new ApiError('bad_request', 'binary frames are not part of the protocol: send JSON text');
      const message = parseClientFrame(text);
      if (message.type === 'auth') await this.authenticate(client, message.token);
      else if (message.type === 'subscribe') {
        sub = message.data.id;
        await this.subscribe(client, message.data);
      } else {
        sub = message.id;
        this.unsubscribe(client, message.id);
      }
    } catch (err) {
      this.sendError(client, err, sub);
    }
  }

  private async authenticate(client: RealtimeClient, token: string): Promise<void> {
    const credential = await this.deps.auth.authenticateBearer(token);
    if (!credential) {
      this.setCaller(client, ANONYMOUS, undefined);
      throw new ApiError('unauthenticated', 'the token is invalid or expired; the connection is now anonymous');
    }
    this.setCaller(client, callerFor(credential.user), token, credential.expires);
  }

  private async subscribe(client: RealtimeClient, data: SubscribeData): Promise<void> {
    if (client.subscriptions.has(data.id)) throw new ApiError('conflict', `a subscription "${data.id}" exists on this connection; unsubscribe it first`);
    if (client.subscriptions.size >= REALTIME_LIMITS.maxSubscriptions) {
      throw new ApiError('bad_request', `at most ${REALTIME_LIMITS.maxSubscriptions} subscriptions per connection`);
    }
    const def = this.deps.collections.get(data.collection);
    if (!def) throw ApiError.notFound(`Collection "${data.collection}"`);
    const rule: RuleName = data.recordId ? 'view' : 'list';
    if (ruleAccess(def, rule, client.caller) === 'none') {
      throw client.caller.user
        ? new ApiError('forbidden', `the ${rule} rule of ${def.name} lets only superusers see its records`)
        : new ApiError('unauthenticated', `sign in to see records of ${def.name}`);
    }
    const filter = data.filter === undefined ? undefined : parseCached(data.filter);
    this.access.check(def, rule, client.audience, filter, data.filter);
    let since = data.since;
    if (since !== undefined) {
      const { head, pruned } = await this.deps.log.bounds();
      if (since > head) throw new ApiError('bad_request', `since (${since}) is ahead of the change log (${head})`);
      if (since < pruned) {
        this.send(client, envelope('resync_required', { sub: data.id }));
        return;
      }
      // Already caught up: nothing to replay.
      if (since >= this.deps.feed.position) since = undefined;
    }
    if (client.closed || client.subscriptions.has(data.id)) return;
    const subscription: Subscription = {
      id: data.id, eventHead: eventHead(JSON.stringify(data.id)), client, collection: def.name, recordId: data.recordId, rule,
      filter, filterText: data.filter, cursor: Math.max(this.deps.feed.position, data.since ?? 0), replaying: since !== undefined,
    };
    client.subscriptions.set(data.id, subscription);
    let set = this.byCollection.get(def.name);
    if (!set) this.byCollection.set(def.name, (set = new Set()));
    set.add(subscription);
    this.send(client, envelope('subscribed', { id: data.id, seq: this.deps.feed.position }));
    if (since !== undefined) {
      this.replay(subscription, since).catch((err: unknown) => {
        this.drop(subscription);
        this.sendError(client, err, data.id);
      });
    }
  }

  private unsubscribe(client: RealtimeClient, id: string): void {
    const sub = client.subscriptions.get(id);
    if (!sub) throw new ApiError('not_found', `no subscription "${id}" on this connection`);
    this.drop(sub);
  }

  private drop(sub: Subscription): void {
    if (sub.client.subscriptions.get(sub.id) === sub) sub.client.subscriptions.delete(sub.id);
    this.byCollection.get(sub.collection)?.delete(sub);
  }

  private active(sub: Subscription): boolean {
    return !sub.client.closed && sub.client.subscriptions.get(sub.id) === sub;
  }

  /** Changes after `since` from the log, for this subscription only; then it joins the live feed. */
  private async replay(sub: Subscription, since: number): Promise<void> {
    let cursor = since;
    for (;;) {
      const { changes, complete } = await this.deps.log.read(cursor, REPLAY_BATCH);
      if (!this.active(sub)) return;
      if (!complete) {
        this.drop(sub);
        this.send(sub.client, envelope('resync_required', { sub: sub.id }));
        return;
      }
      for (const change of changes) {
        const def = change.collection === sub.collection ? this.deps.collections.get(change.collection) : undefined;
        if (def && change.record) {
          const lookups = new RelationLookups();
          await this.loadRelations(def, change, [sub], lookups);
          if (this.unsent(sub.client) > this.options.maxBufferBytes / 2) await this.drained(sub.client);
          if (!this.active(sub)) return;
          this.offer(sub, def, new DeliveryCache(change, def), lookups);
        }
        cursor = change.seq;
      }
      // Caught up with what the feed has handed out: from here on the feed delivers (nothing
      // between this check and going live can interleave: no await).
      if (changes.length < REPLAY_BATCH && cursor >= this.deps.feed.position) {
        sub.cursor = cursor;
        sub.replaying = false;
        return;
      }
    }
  }

  /** Waits for a replaying client to read what it was sent; too slow for too long is closed. */
  private async drained(client: RealtimeClient): Promise<void> {
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (!client.closed && this.unsent(client) > this.options.maxBufferBytes / 2) {
      if (Date.now() > deadline) return this.disconnect(client, REALTIME_CLOSE.tooSlow, 'too slow: the replay was not read in time');
      await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
    }
  }

  private needsRelations(def: CollectionDef, sub: Subscription): boolean {
    let byRule = this.ruleRelations.get(def);
    if (!byRule) this.ruleRelations.set(def, (byRule = {}));
    const text = def.rules[sub.rule];
    byRule[sub.rule] ??= !!text && text.trim() !== '' && followsRelations(parseCached(text), def);
    return byRule[sub.rule]! || followsRelations(sub.filter, def);
  }

  /** Runs the checks that follow relations, loading what they miss, until they miss nothing. */
  private async loadRelations(def: CollectionDef, change: Change, subs: Iterable<Subscription>, lookups: RelationLookups): Promise<void> {
    const needing = [...subs].filter((s) => this.needsRelations(def, s));
    if (needing.length === 0) return;
    for (let round = 0; round < LOOKUP_ROUNDS; round++) {
      for (const sub of needing) this.access.allows(def, sub.rule, sub.client.audience, change.record!, lookups, sub.filter, sub.filterText);
      if (!(await lookups.loadMissing(this.deps.collections, this.deps.loadRecords))) return;
    }
  }

  async prepare(change: Change): Promise<void> {
    this.lookups = new RelationLookups();
    const subs = this.byCollection.get(change.collection);
    const def = this.deps.collections.get(change.collection);
    if (!subs?.size || !def || !change.record) return;
    await this.loadRelations(def, change, [...subs].filter((s) => !s.replaying), this.lookups);
  }

  deliver(change: Change): void {
    const subs = this.byCollection.get(change.collection);
    const def = this.deps.collections.get(change.collection);
    if (!subs?.size || !def || !change.record) return;
    const cache = new DeliveryCache(change, def);
    for (const sub of subs) {
      if (sub.replaying || change.seq <= sub.cursor) continue;
      sub.cursor = change.seq;
      this.offer(sub, def, cache, this.lookups);
    }
  }

  /** The feed skipped pruned changes: every live subscription may have missed some. */
  lost(): void {
    for (const set of this.byCollection.values()) {
      for (const sub of [...set]) {
        if (sub.replaying) continue;
        this.drop(sub);
        this.send(sub.client, envelope('resync_required', { sub: sub.id }));
      }
    }
  }

  private offer(sub: Subscription, def: CollectionDef, cache: DeliveryCache, lookups: RelationLookups): void {
    const change = cache.change;
    if (sub.recordId !== undefined && sub.recordId !== change.recordId) return;
    const key = `${sub.client.audience.key}\0${sub.rule}\0${sub.filterText ?? ''}`;
    let allowed = cache.verdicts.get(key);
    if (allowed === undefined) {
      allowed = this.access.allows(def, sub.rule, sub.client.audience, change.record!, lookups, sub.filter, sub.filterText);
      cache.verdicts.set(key, allowed);
    }
    if (!allowed) return;
    this.sendEvent(sub.client, [sub.eventHead, cache.eventTail(sub.client.caller)]);
  }

  private pingAll(): void {
    for (const client of [...this.clients]) {
      if (!client.alive) {
        this.disconnect(client, REALTIME_CLOSE.pingTimeout, 'no pong: the client stopped answering pings');
        continue;
      }
      client.alive = false;
      client.socket.ping();
    }
  }

  /** Sessions ended (here or on another instance): their connections lose access at once. */
  async sessionsEnded(ended: SessionsEnded): Promise<void> {
    if ('tokenHash' in ended) {
      for (const client of [...this.clients]) if (client.tokenHash === ended.tokenHash) this.endSession(client);
      return;
    }
    await this.recheckSessions((client) => client.caller.user?.id === ended.userId);
  }

  /** Checks the sessions of the chosen connections again: ended ones are closed, the others refreshed. */
  async recheckSessions(which: (client: RealtimeClient) => boolean): Promise<void> {
    for (const client of [...this.clients]) {
      const token = client.token;
      if (!token || !which(client)) continue;
      const credential = await this.deps.auth.authenticateBearer(token).catch(() => undefined);
      // undefined: the database did not answer; the next round checks again.
      if (credential === null) this.endSession(client);
      else if (credential && client.token === token && !client.closed) this.setCaller(client, callerFor(credential.user), token, credential.expires);
    }
  }

  private endSession(client: RealtimeClient): void {
    this.send(client, errorEnvelope(new ApiError('unauthenticated', 'the session ended')));
    this.disconnect(client, REALTIME_CLOSE.sessionEnded, 'session ended');
  }
}
