// Server-to-client WebSocket text frames (RFC 6455 §5.2) written several to one buffer. The realtime
// hub gathers a connection's events of a flush interval; sending each through ws costs a header
// allocation, a UTF-8 copy and two stream writes per event, which under fan-out (thousands of sockets,
// every event to each) is most of what a delivery costs. One buffer per connection per flush makes it
// one allocation and one write, and the pieces of each event (its subscription's head, the change's
// shared tail) are copied as bytes rather than joined into a string per socket. Server frames are
// never masked, so the encoding is the header and the payload: unfragmented text frames are exactly
// what ws itself would send without compression.

import type { TextMessage } from '../core/realtime-messages.ts';

const FIN_TEXT = 0x81;
const LENGTH_16 = 126;
const LENGTH_64 = 127;

function headerLength(payload: number): number {
  if (payload < LENGTH_16) return 2;
  return payload < 0x10000 ? 4 : 10;
}


function messageLength(message: TextMessage): number {
  let n = 0;
  for (const piece of message) n += piece.length;
  return n;
}

/** The frames of `messages`, one text frame each, in order, in a single buffer. */
export function textFrames(messages: readonly TextMessage[]): Buffer {
  let total = 0;
  for (const message of messages) {
    const n = messageLength(message);
    total += headerLength(n) + n;
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const message of messages) {
    const n = messageLength(message);
    out[at++] = FIN_TEXT;
    if (n < LENGTH_16) out[at++] = n;
    else if (n < 0x10000) {
      out[at++] = LENGTH_16;
      at = out.writeUInt16BE(n, at);
    } else {
      out[at++] = LENGTH_64;
      at = out.writeBigUInt64BE(BigInt(n), at);
    }
    for (const piece of message) {
      out.set(piece, at);
      at += piece.length;
    }
  }
  return out;
}
