// The realtime benchmark's subscribers, run as a child process of their own (so their CPU is not
// counted as the server's, nor the server's as theirs): opens N WebSockets to a Galley, subscribes
// each to a collection, then counts events and their latency — the time from the write's start
// (carried in the record's `title` as `t:<epoch ms>`) to the event's arrival here.
//
// Driven over IPC: {connect: {url, count, collection}} → {ready}; {finish: {expected, quietMs, maxWaitMs}} →
// {stats}. Latencies go into 1 ms buckets, so millions of events cost a fixed amount of memory.

import WebSocket from 'ws';

const MAX_MS = 60_000;
const buckets = new Uint32Array(MAX_MS + 1);
let deliveries = 0;
let firstAt = 0;
let lastAt = 0;
let closed = 0;
const closeCodes: Record<string, number> = {};
const sockets: WebSocket[] = [];

const EVENT = Buffer.from('{"type":"event"');
const STAMP = Buffer.from('"title":"t:');

/** The write's start time from an event's bytes, read in place: this process must not be what limits the run. */
function stampOf(frame: Buffer): number | undefined {
  if (frame.compare(EVENT, 0, EVENT.length, 0, EVENT.length) !== 0) return undefined;
  let at = frame.indexOf(STAMP);
  if (at < 0) return undefined;
  let ms = 0;
  for (at += STAMP.length; at < frame.length && frame[at]! >= 0x30 && frame[at]! <= 0x39; at++) ms = ms * 10 + frame[at]! - 0x30;
  return ms;
}

function onMessage(raw: WebSocket.RawData): void {
  const stamp = stampOf(Buffer.isBuffer(raw) ? raw : Buffer.from(raw.toString()));
  if (stamp === undefined) return;
  const now = Date.now();
  deliveries++;
  if (!firstAt) firstAt = now;
  lastAt = now;
  buckets[Math.min(MAX_MS, Math.max(0, now - stamp))]!++;
}

async function open(url: string, collection: string, index: number): Promise<void> {
  // No UTF-8 check of each event: the measuring process reads only ASCII time stamps from the bytes.
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/realtime`, { perMessageDeflate: false, skipUTF8Validation: true });
  sockets.push(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  await new Promise<void>((resolve, reject) => {
    const onReply = (raw: WebSocket.RawData) => {
      const message = JSON.parse(raw.toString()) as { type: string; data: unknown };
      ws.off('message', onReply);
      if (message.type === 'subscribed') resolve();
      else reject(new Error(`subscription ${index} answered ${raw.toString().slice(0, 200)}`));
    };
    ws.on('message', onReply);
    ws.send(JSON.stringify({ type: 'subscribe', data: { id: `s${index}`, collection } }));
  });
  ws.on('message', onMessage);
  // The server closes a reader that falls too far behind (4002): counted, as that is part of the result.
  ws.once('close', (code) => {
    closed++;
    closeCodes[code] = (closeCodes[code] ?? 0) + 1;
  });
}

function percentile(p: number): number {
  const rank = Math.ceil((p / 100) * deliveries);
  let seen = 0;
  for (let ms = 0; ms <= MAX_MS; ms++) {
    seen += buckets[ms]!;
    if (seen >= rank) return ms;
  }
  return MAX_MS;
}

process.on('message', (message: { connect?: { url: string; count: number; collection: string }; finish?: { expected: number; quietMs: number; maxWaitMs: number } }) => {
  void (async () => {
    if (message.connect) {
      const { url, count, collection } = message.connect;
      // A few hundred handshakes at a time: a burst of thousands would measure the accept queue.
      for (let i = 0; i < count; i += 200) await Promise.all(Array.from({ length: Math.min(200, count - i) }, (_, j) => open(url, collection, i + j)));
      process.send!({ ready: sockets.length });
    }
    if (message.finish) {
      const { expected, quietMs, maxWaitMs } = message.finish;
      let last = -1;
      let quietSince = Date.now();
      const deadline = Date.now() + maxWaitMs;
      while (deliveries < expected && Date.now() - quietSince < quietMs && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        if (deliveries !== last) {
          last = deliveries;
          quietSince = Date.now();
        }
      }
      const closedEarly = closed;
      const codes = { ...closeCodes };
      sockets.forEach((s) => s.terminate());
      process.send!({ stats: { deliveries, firstAt, lastAt, p50: percentile(50), p99: percentile(99), max: percentile(100), closedEarly, closeCodes: codes } });
    }
  })().catch((err: unknown) => {
    process.send!({ error: err instanceof Error ? err.message : String(err) });
  });
});
