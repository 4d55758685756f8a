// GET /api/v1/realtime: the WebSocket endpoint (contract §8). Authenticates the handshake (a bearer
// token, or the session cookie from an allowed origin only — a cross-site page must not ride on a
// user's cookie), then hands frames to the realtime hub, which does the rest.

import type { WebsocketPluginOptions } from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { REALTIME_LIMITS } from '@galley/protocol';
import { ApiError } from '../../core/api-error.ts';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { RealtimeHub, RealtimeSocket } from '../../core/realtime-hub.ts';
import { isSameOrigin } from '../session.ts';
import { textFrames } from '../websocket-frames.ts';

/** Connections that do not answer the close frame at shutdown are cut after this long. */
const CLOSE_GRACE_MS = 1000;

/**
 * Options for @fastify/websocket. The plugin is registered in a scope of its own with this route
 * (server.ts); the socket of a handshake that a global hook refused (401, 403, 503) before the
 * plugin's own hooks ran is closed by server.ts's onRequest hook once the answer is sent.
 */
export function websocketOptions(hub: RealtimeHub): WebsocketPluginOptions {
  return {
    // Larger frames close the connection with 1009 (ws does it before buffering them).
    options: { maxPayload: REALTIME_LIMITS.maxFrameBytes },
    // A socket error (a frame too large, a client vanishing) is the connection's end, not the server's.
    errorHandler: (err, _socket, request) => request.log.debug({ err }, 'realtime connection error'),
    preClose(done) {
      hub.close();
      const server = this.websocketServer;
      setTimeout(() => server.clients.forEach((c) => c.terminate()), CLOSE_GRACE_MS).unref();
      server.close(() => done());
    },
  };
}

/**
 * The hub's view of a connection. A flush's events go to the TCP socket under ws as one buffer of
 * frames (websocket-frames.ts). That is only sound while ws itself would write each frame as is and
 * at once: the connection open, no extension negotiated (the server offers none: permessage-deflate
 * is off by default in ws), and nothing queued in ws's sender. Otherwise the frames go through ws one
 * by one. ws keeps the TCP socket in `_socket` (not in its typings, but stable since ws 1); what is
 * written to it counts in ws.bufferedAmount, which the hub's slow-reader limit reads.
 */
export function hubSocket(ws: WebSocket): RealtimeSocket {
  const tcp = (ws as unknown as { _socket?: Socket })._socket;
  const sender = (ws as unknown as { _sender?: { _queue?: unknown[] } })._sender;
  const direct = () => tcp !== undefined && ws.readyState === ws.OPEN && ws.extensions === '' && sender?._queue?.length === 0;
  return {
    send: (text) => ws.send(text),
    sendAll: (messages) => {
      if (direct()) tcp!.write(textFrames(messages));
      else for (const message of messages) ws.send(Buffer.concat(message), { binary: false });
    },
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    ping: () => ws.ping(),
    close: (code, reason) => ws.close(code, reason),
  };
}

export async function realtimeRoutes(app: FastifyInstance, deps: { hub: RealtimeHub; allowedOrigins: string[] }): Promise<void> {
  const allowed = new Set(deps.allowedOrigins);

  const checkOrigin = async (request: FastifyRequest) => {
    const origin = request.headers.origin;
    // The dashboard at /admin connects from the server's own origin, as its HTTP calls do.
    if (request.authVia === 'cookie' && origin !== undefined && !allowed.has(origin) && !isSameOrigin(origin, request.headers.host)) {
      throw new ApiError('forbidden', `a cookie-authenticated connection from origin ${origin.slice(0, 200)} is not allowed (GALLEY_ALLOWED_ORIGINS)`);
    }
  };

  app.route({
    method: 'GET',
    url: '/api/v1/realtime',
    preValidation: checkOrigin,
    handler: async () => {
      throw new ApiError('bad_request', 'this endpoint speaks WebSocket: send an Upgrade request', undefined, { status: 426, headers: { upgrade: 'websocket' } });
    },
    wsHandler: (socket, request) => {
      const client = deps.hub.connect(hubSocket(socket), request.caller, request.sessionToken ?? request.apiKeySecret, request.credentialExpires);
      socket.on('message', (data, isBinary) => deps.hub.receive(client, isBinary ? undefined : data.toString()));
      socket.on('pong', () => deps.hub.pong(client));
      socket.on('close', () => deps.hub.forget(client));
    },
  });
}
