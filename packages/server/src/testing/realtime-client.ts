// A WebSocket client for the realtime suites (the `ws` package, as a Node client would use it):
// messages queue up in arrival order and `next()` takes them one by one, with a timeout.

import WebSocket from 'ws';

export interface RealtimeTestOptions {
  token?: string;
  cookie?: string;
  origin?: string;
  /** false: never answer pings (to test the ping timeout). */
  autoPong?: boolean;
}

// Tests read arbitrary envelopes; asserting their shape is their job.
export type Message = { type: string; data: any; ts: string };

export class RealtimeTestClient {
  readonly received: Message[] = [];
  private waiting: Array<() => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.received.push(JSON.parse(data.toString()) as Message);
      this.waiting.splice(0).forEach((fn) => fn());
    });
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async open(baseUrl: string, options: RealtimeTestOptions = {}): Promise<RealtimeTestClient> {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.cookie) headers.cookie = `galley_session=${options.cookie}`;
    if (options.origin) headers.origin = options.origin;
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/api/v1/realtime`, { headers, autoPong: options.autoPong ?? true });
    const client = new RealtimeTestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (req, res) => {
        req.destroy();
        reject(new Error(`handshake refused: ${res.statusCode}`));
      });
    });
    return client;
  }

  send(type: string, data: unknown): void {
    this.ws.send(JSON.stringify({ type, data }));
  }

  /** Takes the next message (of `type`, when given, skipping nothing: a different type fails). */
  async next(type?: string, timeoutMs = 5000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message within ${timeoutMs} ms${type ? ` (wanted ${type})` : ''}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiting.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const message = this.received.shift()!;
    if (type !== undefined && message.type !== type) throw new Error(`wanted ${type}, got ${JSON.stringify(message).slice(0, 500)}`);
    return message;
  }

  /** Takes `n` messages (of `type`, when given). */
  async take(n: number, type?: string, timeoutMs = 10_000): Promise<Message[]> {
    const out: Message[] = [];
    for (let i = 0; i < n; i++) out.push(await this.next(type, timeoutMs));
    return out;
  }

  /** Subscribes and returns the `subscribed` data. */
  async subscribe(data: Record<string, unknown>): Promise<{ id: string; seq: number }> {
    this.send('subscribe', data);
    return (await this.next('subscribed')).data;
  }

  /** Waits until nothing more arrives for `ms` and asserts nothing did. */
  async quiet(ms = 200): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    if (this.received.length) throw new Error(`unexpected message: ${JSON.stringify(this.received[0]).slice(0, 500)}`);
  }

  close(): void {
    this.ws.close();
  }
}
