// The frames the realtime hub writes without ws (websocket-frames.ts), read back by ws's own
// client-side parser: every length encoding (7-bit, 16-bit, 64-bit), multi-byte UTF-8, empty
// messages, and many frames in one buffer, split at any byte as TCP may deliver them.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Writable } from 'node:stream';
import * as ws from 'ws';
import { textFrames } from '../src/http/websocket-frames.ts';

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
