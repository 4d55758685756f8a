// Builds the Fastify instance: request ids, JSON logs, the body parser, problem responses,
// sessions and CSRF, and the routes (one plugin per resource). The only module that wires Fastify.

import crypto from 'node:crypto';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import zlib from 'node:zlib';
import compress from '@fastify/compress';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import websocket from '@fastify/websocket';
import type { Logger } from 'pino';
import { ApiError } from '../core/api-error.ts';
import type { Services } from '../app.ts';
import { registerJsonParser } from './json-body.ts';
import { registerRequestMetrics } from './request-metrics.ts';
import { frameworkErrorHandler, registerProblemHandlers } from './problem.ts';
import { lazyRequestLogger } from './request-logger.ts';
import { registerSession } from './session.ts';
import { adminRoutes } from './routes/admin.ts';
import { accountMailRoutes } from './routes/account-mail.ts';
import { authRoutes } from './routes/auth.ts';
import { sessionRoutes } from './routes/sessions.ts';
import { setupRoutes } from './routes/setup.ts';
import { accountAdminRoutes } from './routes/account-admin.ts';
import { apiKeyRoutes } from './routes/api-keys.ts';
import { batchRoutes } from './routes/batch.ts';
import { collectionRoutes } from './routes/collections.ts';
import { docsRoutes } from './routes/docs.ts';
import { fileRoutes } from './routes/files.ts';
import { healthRoutes } from './routes/health.ts';
import { mfaRoutes } from './routes/mfa.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { realtimeRoutes, websocketOptions } from './routes/realtime.ts';
import { oauthRoutes } from './routes/oauth.ts';
import { recordRoutes } from './routes/records.ts';
import { ruleRoutes } from './routes/rules.ts';
import { searchInsightRoutes } from './routes/search-insights.ts';
import { uploadRoutes } from './routes/uploads.ts';
import { webhookRoutes } from './routes/webhooks.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export interface HttpOptions {
  bodyLimit: number;
  allowedOrigins: string[];
  secureCookies: boolean;
  version: string;
  logger: Logger;
  /** GALLEY_METRICS_TOKEN: lets a scraper read /metrics without a superuser session. */
  metricsToken?: string;
  /** The built dashboard served at /admin (packages/admin/dist). */
  adminDir: string;
  /** GALLEY_TRUST_PROXY: whose X-Forwarded-For gives request.ip (off by default: it is forgeable). */
  trustProxy?: boolean | number | string[];
}

/** Trusts the nearest `hops` proxies: X-Forwarded-For is read from the right, that many entries deep. */
const trustHops = (hops: number) => (_address: string, hop: number) => hop < hops;

export async function buildHttpServer(services: Services, options: HttpOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit,
    // A hop count as the function Fastify would make of it (its option types leave numbers out here).
    trustProxy: typeof options.trustProxy === 'number' ? trustHops(options.trustProxy) : (options.trustProxy ?? false),
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    childLoggerFactory: lazyRequestLogger,
    // A caller-chosen id is kept when it is harmless, so traces can cross services.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    },
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 200 },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    frameworkErrors: frameworkErrorHandler,
    // Strict schemas: a number is not a string, and unknown properties are reported, not dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true } },
  }) as unknown as FastifyInstance;

  let closing = false;
  app.addHook('onClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', String(request.id));
    // A WebSocket handshake that is answered rather than upgraded (refused by a hook: 401, 403, 503;
    // or sent to a path that speaks no WebSocket) leaves a socket no HTTP parser reads any more: it
    // is closed once the answer is out. `upgrade` is Node's flag (not in its typings).
    if ((request.raw as { upgrade?: boolean }).upgrade) reply.raw.once('finish', () => request.raw.socket.destroy());
    if (closing) return done(new ApiError('unavailable', 'the server is shutting down', undefined, { headers: { 'retry-after': '2', connection: 'close' } }));
    done();
  });

  registerProblemHandlers(app);
  registerJsonParser(app, options.bodyLimit);
  await app.register(cookie);
  // CORS answers only the allowed origins (GALLEY_ALLOWED_ORIGINS), with credentials so a browser
  // app on one of them may use the session cookie; other origins get no CORS headers at all.
  const allowedOrigins = new Set(options.allowedOrigins);
  await app.register(cors, {
    origin: (origin, callback) => callback(null, origin !== undefined && allowedOrigins.has(origin)),
    credentials: true,
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'PUT', 'DELETE'],
    exposedHeaders: ['etag', 'location', 'idempotent-replayed', 'retry-after', 'x-request-id', 'upload-offset', 'upload-length', 'tus-resumable'],
    maxAge: 600,
  });
  // Bodies over 1 KB go out as br or gzip when the client accepts them. Brotli at quality 4 costs
  // about what gzip does (the default 11 is meant for static assets, not per-request JSON).
  // Request bodies are not decompressed: the body limit stays a limit on what arrives.
  await app.register(compress, {
    threshold: 1024,
    encodings: ['br', 'gzip'],
    brotliOptions: { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } },
    globalDecompression: false,
  });
  registerRequestMetrics(app, services.metrics);
  registerSession(app, { auth: services.auth, allowedOrigins: options.allowedOrigins });

  await app.register(healthRoutes, { db: services.db });
  await app.register(authRoutes, { auth: services.auth, signIn: services.signIn, registration: services.registration, secureCookies: options.secureCookies });
  await app.register(mfaRoutes, { mfa: services.mfa, signIn: services.signIn, secureCookies: options.secureCookies });
  await app.register(accountMailRoutes, { accountMail: services.accountMail });
  await app.register(sessionRoutes, { auth: services.auth });
  await app.register(setupRoutes, { firstRun: services.firstRun, secureCookies: options.secureCookies });
  await app.register(accountAdminRoutes, { auth: services.auth, records: services.records, directory: services.users });
  await app.register(apiKeyRoutes, { auth: services.auth });
  await app.register(oauthRoutes, { oauth: services.oauth, secureCookies: options.secureCookies });
  await app.register(collectionRoutes, { collections: services.collections, searchBuilds: services.searchBuilds });
  await app.register(ruleRoutes, { tester: services.ruleTester });
  await app.register(fileRoutes, {
    files: services.files, records: services.records, collections: services.collections, auth: services.auth, tokens: services.fileTokens, storage: services.storage,
  });
  await app.register(uploadRoutes, { uploads: services.uploads, collections: services.collections });
  await app.register(recordRoutes, {
    records: services.records, collections: services.collections, uploads: services.uploads, stagingDir: services.files.stagingDir, bodyLimit: options.bodyLimit,
    cache: services.readCache, collectionsVersion: () => services.collections.version,
  });
  await app.register(searchInsightRoutes, { insights: services.searchInsights });
  await app.register(metricsRoutes, { metrics: services.metrics, token: options.metricsToken });
  await app.register(batchRoutes, { db: services.db, records: services.records });
  await app.register(webhookRoutes, { webhooks: services.webhooks });
  // @fastify/websocket wraps the handler of every route it sees and adds an onRequest and an
  // onResponse hook wherever it is registered: here, in a scope of its own with the one route that
  // speaks WebSocket, so that no other request pays for them.
  await app.register(async (realtime: FastifyInstance) => {
    await realtime.register(websocket, websocketOptions(services.realtime));
    await realtime.register(realtimeRoutes, { hub: services.realtime, allowedOrigins: options.allowedOrigins });
  });
  await app.register(adminRoutes, { dir: options.adminDir });
  await app.register(docsRoutes, {
    listCollections: async () => services.collections.list(),
    collectionsVersion: () => services.collections.version,
    version: options.version,
  });
  return app;
}

