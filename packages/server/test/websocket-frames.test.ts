// The frames the realtime hub writes without ws (websocket-frames.ts), read back by ws's own
// client-side parser: every length encoding (7-bit, 16-bit, 64-bit), multi-byte UTF-8, empty
// messages, messages made of several pieces, and many frames in one buffer, split at any byte as
// TCP may deliver them; and the hub's socket adapter, which leaves the framing to ws when it must.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { Writable } from 'node:stream';
import * as ws from 'ws';
import type { TextMessage } from '../src/core/realtime-messages.ts';
import { hubSocket } from '../src/http/routes/realtime.ts';
import { textFrames as framesOf } from '../src/http/websocket-frames.ts';

// ws's frame parser is exported (Receiver) but not in @types/ws.
const { Receiver } = ws as unknown as { Receiver: new (options: { isServer: boolean }) => Writable };

function parse(chunks: Buffer[]): string[] {
  const messages: string[] = [];
  const receiver = new Receiver({ isServer: false });
  receiver.on('message', (data: Buffer, isBinary: boolean) => {
    assert.equal(isBinary, false);
    messages.push(data.toString());
  });
  receiver.on('error', (err: Error) => assert.fail(err));
  for (const chunk of chunks) receiver.write(chunk);
  return messages;
}

/** Each text as one piece of UTF-8, as most tests need. */
const textFrames = (texts: readonly string[]) => framesOf(texts.map((text) => [Buffer.from(text)]));

const TEXTS = ['', 'a', 'x'.repeat(125), 'y'.repeat(126), 'é'.repeat(63), '€'.repeat(42), 'z'.repeat(65_535), 'w'.repeat(65_536), '{"type":"event","data":{"sub":"s1"}}', '😀 müller'.repeat(9_000)];

test('text frames of every length encoding read back as the same messages, in order', () => {
  assert.deepEqual(parse([textFrames(TEXTS)]), TEXTS);
});

test('the frames read back the same when the buffer arrives in pieces', () => {
  // Byte by byte over the short ones (every header split); larger pieces over all of them.
  const short = TEXTS.filter((text) => text.length < 1000);
  for (const [texts, size] of [[short, 1], [TEXTS, 127], [TEXTS, 4096]] as const) {
    const bytes = textFrames(texts);
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
    assert.deepEqual(parse(chunks), texts, `pieces of ${size} bytes`);
  }
});

test('each frame is a final, unmasked text frame with the shortest length encoding', () => {
  const [short, medium, long] = [textFrames(['abc']), textFrames(['q'.repeat(300)]), textFrames(['r'.repeat(70_000)])];
  assert.deepEqual([...short.subarray(0, 2)], [0x81, 3]);
  assert.equal(short.length, 5);
  assert.deepEqual([...medium.subarray(0, 4)], [0x81, 126, 300 >> 8, 300 & 0xff]);
  assert.equal(medium.length, 304);
  assert.deepEqual([...long.subarray(0, 2)], [0x81, 127]);
  assert.equal(long.readBigUInt64BE(2), 70_000n);
  assert.equal(long.length, 70_010);
  assert.equal(textFrames([]).length, 0);
});

test('a message made of several pieces is one frame of their bytes joined, wherever the pieces split it', () => {
  const text = '{"type":"event","data":{"sub":"s1","record":{"title":"Müller 😀"}}}';
  const bytes = Buffer.from(text);
  // Empty pieces, and cuts inside multi-byte characters: the frame holds the bytes, not the pieces.
  const messages: TextMessage[] = [
    [bytes.subarray(0, 30), bytes.subarray(30)],
    [Buffer.alloc(0), bytes, Buffer.alloc(0)],
    [bytes.subarray(0, 56), bytes.subarray(56, 63), bytes.subarray(63)],
    Array.from(bytes, (byte) => Uint8Array.of(byte)),
  ];
  assert.deepEqual(parse([framesOf(messages)]), messages.map(() => text));
  assert.deepEqual(framesOf(messages.slice(0, 1)), textFrames([text]));
});

test('the hub socket writes frames itself on a plain connection and leaves them to ws once an extension is on', async () => {
  const messages: TextMessage[] = [[Buffer.from('{"a":'), Buffer.from('"Müller"}')], [Buffer.from('second')]];
  for (const perMessageDeflate of [false, true]) {
    const server = new ws.WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate });
    try {
      await once(server, 'listening');
      const client = new ws.WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, { perMessageDeflate });
      const [socket] = (await once(server, 'connection')) as [ws.WebSocket];
      assert.equal(socket.extensions === '', !perMessageDeflate, 'permessage-deflate negotiated as asked');
      const received: string[] = [];
      client.on('message', (data: Buffer, isBinary: boolean) => received.push(`${isBinary ? 'binary' : 'text'}:${data.toString()}`));
      hubSocket(socket).sendAll(messages);
      while (received.length < messages.length) await once(client, 'message');
      assert.deepEqual(received, ['text:{"a":"Müller"}', 'text:second'], `perMessageDeflate: ${perMessageDeflate}`);
      client.terminate();
    } finally {
      server.close();
    }
  }
});
