// The composition root: configuration → adapters → services → HTTP. The one place that picks
// implementations; everything below receives what it needs as arguments.

import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import type { GalleyConfig } from './config/config.ts';
import { AuthService } from './core/auth.ts';
import { BUS_CHANNELS, type Bus } from './bus/bus.ts';
import { DatabaseBus } from './bus/database-bus.ts';
import { ChangeFeed } from './core/change-feed.ts';
import { ChangeLog } from './core/changes.ts';
import type { SessionsEnded } from './core/auth.ts';
import { RealtimeHub } from './core/realtime-hub.ts';
import { CollectionService } from './core/collections.ts';
import { FileTokens } from './core/file-tokens.ts';
import { FileService } from './core/files.ts';
import { UploadService } from './core/uploads.ts';
import { DEFAULT_JOB_OPTIONS, JobQueue } from './core/jobs.ts';
import { RecordService } from './core/records.ts';
import { MfaService } from './core/mfa.ts';
import { OAuthService } from './core/oauth.ts';
import { createOAuthProvider } from './core/oauth-providers.ts';
import { loadServerSecret, type ServerSecret } from './core/secrets.ts';
import { SignInService } from './core/sign-in.ts';
import { connectDatabase } from './db/connect.ts';
import type { Database } from './db/database.ts';
import { migrateSystemTables } from './db/system-schema.ts';
import { buildHttpServer } from './http/server.ts';
import { connectStorage } from './storage/connect.ts';
import type { Storage } from './storage/storage.ts';
import { checkRule } from './rules/rule-check.ts';

export const VERSION = '0.1.0';

export interface Services {
  db: Database;
  collections: CollectionService;
  records: RecordService;
  auth: AuthService;
  changes: ChangeLog;
  mfa: MfaService;
  signIn: SignInService;
  oauth: OAuthService;
  secret: ServerSecret;
  storage: Storage;
  bus: Bus;
  realtime: RealtimeHub;
  jobs: JobQueue;
  files: FileService;
  fileTokens: FileTokens;
  uploads: UploadService;
}

export interface App {
  config: GalleyConfig;
  services: Services;
  http: FastifyInstance;
  logger: Logger;
  /** Listens on the configured host and port; resolves to the address. */
  listen(): Promise<string>;
  /** Stops accepting, finishes in-flight requests, closes the database. */
  close(): Promise<void>;
}

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    // Belt and braces: nothing that carries a secret is ever logged, even if a serializer changes.
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'password', '*.password', 'token', '*.token'], remove: true },
  });
}

export async function createApp(config: GalleyConfig, options: { logger?: Logger } = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.logLevel);
  if (!config.databaseUrl) fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const db = connectDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize });
  const storage = connectStorage(config.storage);
  try {
    await migrateSystemTables(db);
    const secret = await loadServerSecret(db, config.secret);
    const collections = new CollectionService(db, checkRule);
    await collections.load();
    await collections.watch((err) => logger.error({ err }, 'reloading collection definitions failed'));
    const changes = new ChangeLog(db, config.changesRetention);
    changes.startPruning((err) => logger.error({ err }, 'pruning the change log failed'));
    const jobs = new JobQueue(db, {
      ...DEFAULT_JOB_OPTIONS,
      concurrency: config.jobConcurrency,
      onError: (err, job) => logger.warn({ err, job }, 'background job failed'),
    });
    const files = new FileService(db, storage, jobs, collections, path.join(config.dataDir, 'staging'));
    const fileTokens = new FileTokens(secret.key('file-tokens'));
    const uploads = new UploadService(db, jobs, path.join(config.dataDir, 'uploads'), config.uploadExpiryHours * 3_600_000);
    const records = new RecordService(db, collections, changes, files);
    const auth = new AuthService(db, collections);
    if (config.admin) {
      const outcome = await auth.ensureSuperuser(config.admin.email, config.admin.password);
      if (outcome === 'created') logger.info({ email: config.admin.email }, 'superuser created from GALLEY_ADMIN_EMAIL');
    }
    const mfa = new MfaService(db, { secrets: secret.key('mfa'), recoveryCodes: secret.key('mfa-recovery-codes') }, config.mfaIssuer);
    const signIn = new SignInService(db, auth, mfa);
    const bus: Bus = new DatabaseBus(db);
    const feed = new ChangeFeed(changes, bus, (err) => logger.error({ err }, 'reading the change log failed'));
    const realtime = new RealtimeHub(
      { collections, auth, log: changes, feed, loadRecords: (def, ids) => records.findByIds(def, ids), logger },
      config.realtime,
    );
    await feed.start();
    realtime.start();
    const logFailure = (what: string) => (err: unknown) => logger.error({ err }, what);
    // A session that ends loses its realtime connections at once here, and through the bus elsewhere.
    auth.onSessionsEnded(async (ended) => {
      await realtime.sessionsEnded(ended);
      await bus.publish(BUS_CHANNELS.sessions, JSON.stringify(ended)).catch(logFailure('announcing ended sessions failed'));
    });
    await bus.subscribe(BUS_CHANNELS.sessions, (message) => {
      const ended = message ? parseSessionsEnded(message) : undefined;
      void (ended ? realtime.sessionsEnded(ended) : realtime.recheckSessions(() => true)).catch(logFailure('checking realtime sessions failed'));
    });
    const oauth = new OAuthService(db, auth, signIn, config.oauthProviders.map(createOAuthProvider), {
      publicUrl: config.publicUrl,
      allowedOrigins: config.allowedOrigins,
      stateKey: secret.key('oauth-state'),
    });
    const services: Services = { db, collections, records, auth, mfa, signIn, oauth, secret, changes, storage, bus, realtime, jobs, files, fileTokens, uploads };
    const http = await buildHttpServer(services, {
      bodyLimit: config.bodyLimit,
      allowedOrigins: config.allowedOrigins,
      secureCookies: config.publicUrl.startsWith('https:'),
      version: VERSION,
      logger,
    });
    await jobs.start();
    let closed: Promise<void> | undefined;
    return {
      config,
      services,
      http,
      logger,
      listen: () => http.listen({ host: config.host, port: config.port }),
      close: () =>
        (closed ??= (async () => {
          await http.close();
          feed.stop();
          await jobs.stop();
          changes.stop();
          await storage.close();
          await bus.close();
          await db.close();
        })()),
    };
  } catch (err) {
    await storage.close().catch(() => {});
    await db.close().catch(() => {});
    throw err;
  }
}

/** A bus message about ended sessions, or undefined when it is not one (then every session is checked). */
function parseSessionsEnded(message: string): SessionsEnded | undefined {
  try {
    const value = JSON.parse(message) as Record<string, unknown>;
    if (typeof value.tokenHash === 'string') return { tokenHash: value.tokenHash };
    if (typeof value.userId === 'string') return { userId: value.userId };
  } catch {
    // Not ours: fall through.
  }
  return undefined;
}
