// A real HTTP server on 127.0.0.1 that receives webhook deliveries for the suites: it records every
// request (headers and raw body), checks its Galley-Signature against a secret the test gives it,
// and answers each path as the test says (a status, or never).

import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedDelivery {
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: any;
  /** Whether Galley-Signature matched one of the secrets registered for the webhook id. */
  verified: boolean;
  at: number;
}

/** Verifies a delivery as docs/webhooks.md tells receivers to: HMAC of "<timestamp>.<body>", constant-time compare, 5-minute window. */
export function verifySignature(secret: string, headers: http.IncomingHttpHeaders, raw: string, now = Date.now()): boolean {
  const timestamp = Number(headers['galley-timestamp']);
  const given = String(headers['galley-signature'] ?? '');
  if (!Number.isInteger(timestamp) || Math.abs(now / 1000 - timestamp) > 300 || !given.startsWith('v1=')) return false;
  const expected = crypto.createHmac('sha256', secret).update(`${timestamp}.${raw}`).digest();
  const actual = Buffer.from(given.slice(3), 'hex');
  return actual.length === expected.length && crypto.timingSafeEqual(actual, expected);
}

export class WebhookReceiver {
  readonly received: ReceivedDelivery[] = [];
  /** Per path: the status to answer, or 'hang' to never answer. Default 200. */
  readonly behaviour = new Map<string, number | 'hang'>();
  /** Per path: how long to wait before answering. */
  readonly delayMs = new Map<string, number>();
  /** Per webhook id: the secret its deliveries must be signed with. */
  readonly secrets = new Map<string, string>();
  private readonly hanging = new Set<http.ServerResponse>();

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<WebhookReceiver> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const receiver = new WebhookReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('request', (req, res) => receiver.handle(req, res));
    return receiver;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      const path = req.url ?? '/';
      const secret = this.secrets.get(String(req.headers['galley-webhook-id']));
      this.received.push({ path, headers: req.headers, raw, body, verified: secret !== undefined && verifySignature(secret, req.headers, raw), at: Date.now() });
      const behaviour = this.behaviour.get(path) ?? 200;
      if (behaviour === 'hang') {
        this.hanging.add(res);
        return;
      }
      const answer = () => res.writeHead(behaviour, { 'content-type': 'text/plain' }).end(behaviour < 300 ? 'thanks' : 'receiver says no: '.padEnd(2000, 'x'));
      const delay = this.delayMs.get(path);
      if (delay) setTimeout(answer, delay);
      else answer();
    });
  }

  /** Deliveries received on `path`. */
  on(path: string): ReceivedDelivery[] {
    return this.received.filter((r) => r.path === path);
  }

  /** Resolves once `condition` holds on what was received. */
  async until(condition: (received: ReceivedDelivery[]) => boolean, what: string, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!condition(this.received)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; received ${this.received.length}: ${this.received.map((r) => `${r.path} ${r.body?.event}`).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async close(): Promise<void> {
    this.hanging.forEach((res) => res.destroy());
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
