// Server-to-client WebSocket text frames (RFC 6455 §5.2) written several to one buffer. The realtime
// hub gathers a connection's events of a flush interval; sending each through ws costs a header
// allocation, a UTF-8 copy and two stream writes per event, which under fan-out (thousands of sockets,
// every event to each) is most of what a delivery costs. One buffer per connection per flush makes it
// one allocation and one write. Server frames are never masked, so the encoding is the header and
// the payload: unfragmented text frames are exactly what ws itself would send without compression.

const FIN_TEXT = 0x81;
const LENGTH_16 = 126;
const LENGTH_64 = 127;

function headerLength(payload: number): number {
  if (payload < LENGTH_16) return 2;
  return payload < 0x10000 ? 4 : 10;
}

/** The frames of `texts`, one text message each, in order, in a single buffer. */
export function textFrames(texts: readonly string[]): Buffer {
  const lengths = texts.map((text) => Buffer.byteLength(text));
  const total = lengths.reduce((sum, n) => sum + headerLength(n) + n, 0);
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  texts.forEach((text, i) => {
    const n = lengths[i]!;
    out[at++] = FIN_TEXT;
    if (n < LENGTH_16) out[at++] = n;
    else if (n < 0x10000) {
      out[at++] = LENGTH_16;
      at = out.writeUInt16BE(n, at);
    } else {
      out[at++] = LENGTH_64;
      at = out.writeBigUInt64BE(BigInt(n), at);
    }
    at += out.write(text, at);
  });
  return out;
}
