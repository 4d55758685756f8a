// The composition root: configuration → adapters → services → HTTP. The one place that picks
// implementations; everything below receives what it needs as arguments.

import fs from 'node:fs';
import { ADMIN_DIST } from '@galley/admin/build';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import type { GalleyConfig } from './config/config.ts';
import { AccountMail } from './core/account-mail.ts';
import { AuthService } from './core/auth.ts';
import { AuthTokenStore } from './core/auth-tokens.ts';
import { FirstRun } from './core/first-run.ts';
import { RuleTester } from './core/rule-tester.ts';
import { UserDirectory } from './core/user-directory.ts';
import { AuditLog } from './core/audit.ts';
import { NO_LIMITS, RateLimiter } from './core/rate-limit.ts';
import { MemoryRateLimitStore } from './rate-limit/memory.ts';
import { RedisRateLimitStore } from './rate-limit/redis.ts';
import { BUS_CHANNELS, type Bus } from './bus/bus.ts';
import { DatabaseBus } from './bus/database-bus.ts';
import { RedisBus } from './bus/redis-bus.ts';
import { ChangeFeed } from './core/change-feed.ts';
import { ChangeLog } from './core/changes.ts';
import type { SessionsEnded } from './core/auth.ts';
import { RealtimeHub } from './core/realtime-hub.ts';
import { CollectionService } from './core/collections.ts';
import { Metrics } from './core/metrics.ts';
import { ReadCache } from './core/read-cache.ts';
import { FileTokens } from './core/file-tokens.ts';
import { FileService } from './core/files.ts';
import { UploadService } from './core/uploads.ts';
import { DEFAULT_JOB_OPTIONS, JobQueue } from './core/jobs.ts';
import { SearchIndexBuilder } from './core/search-builds.ts';
import { RecordService } from './core/records.ts';
import { SearchInsights } from './core/search-insights.ts';
import { MfaService } from './core/mfa.ts';
import { Registration } from './core/registration.ts';
import { OAuthService } from './core/oauth.ts';
import { createOAuthProvider } from './core/oauth-providers.ts';
import { loadServerSecret, type ServerSecret } from './core/secrets.ts';
import { SignInService } from './core/sign-in.ts';
import { WebhookOutbox } from './core/webhook-outbox.ts';
import { WebhookSender } from './core/webhook-sender.ts';
import { WebhookTargets } from './core/webhook-targets.ts';
import { WebhookService } from './core/webhooks.ts';
import { connectDatabase } from './db/connect.ts';
import type { Database } from './db/database.ts';
import { instrumentDatabase } from './db/instrumented.ts';
import { migrateSystemTables } from './db/system-schema.ts';
import { buildHttpServer } from './http/server.ts';
import { createMailer, type Mailer } from './mail/mailer.ts';
import { connectStorage } from './storage/connect.ts';
import type { Storage } from './storage/storage.ts';
import { checkRule } from './rules/rule-check.ts';

export const VERSION = '0.1.0';
/** Webhook attempts in flight at once per instance (they wait on the network, not the CPU). */
const WEBHOOK_CONCURRENCY = 8;

export interface Services {
  db: Database;
  collections: CollectionService;
  records: RecordService;
  auth: AuthService;
  firstRun: FirstRun;
  ruleTester: RuleTester;
  users: UserDirectory;
  changes: ChangeLog;
  mfa: MfaService;
  signIn: SignInService;
  oauth: OAuthService;
  secret: ServerSecret;
  mailer: Mailer;
  accountMail: AccountMail;
  registration: Registration;
  storage: Storage;
  metrics: Metrics;
  readCache: ReadCache;
  searchInsights: SearchInsights;
  bus: Bus;
  realtime: RealtimeHub;
  jobs: JobQueue;
  searchBuilds: SearchIndexBuilder;
  files: FileService;
  fileTokens: FileTokens;
  uploads: UploadService;
  webhooks: WebhookService;
  webhookOutbox: WebhookOutbox;
  webhookSender: WebhookSender;
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

/**
 * Empties the read cache after every record write: at once for writes committed here (before the
 * write's response goes out), and for other instances' writes as the change feed brings them.
 */
function invalidateOnWrites(changes: ChangeLog, feed: ChangeFeed, cache: ReadCache): void {
  if (!cache.enabled) return;
  changes.onCommitted(() => cache.invalidate());
  feed.add({ prepare: async () => {}, deliver: () => cache.invalidate(), lost: () => cache.invalidate() });
}

export async function createApp(config: GalleyConfig, options: { logger?: Logger } = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.logLevel);
  if (!config.databaseUrl) fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const metrics = new Metrics();
  const db = instrumentDatabase(connectDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize }), {
    metrics, logger, slowQueryMs: config.slowQueryMs,
  });
  const storage = connectStorage(config.storage);
  const audit = new AuditLog(db);
  // With REDIS_URL every instance counts attempts in the same place.
  const limiter = new RateLimiter(
    !config.rateLimits
      ? NO_LIMITS
      : config.redisUrl
        ? new RedisRateLimitStore(config.redisUrl, config.redisPrefix, (err) => logger.error({ err }, 'Redis (rate limits) failed'))
        : new MemoryRateLimitStore(),
  );
  try {
    await migrateSystemTables(db);
    const secret = await loadServerSecret(db, config.secret);
    const collections = new CollectionService(db, checkRule);
    await collections.load();
    await collections.watch((err) => logger.error({ err }, 'reloading collection definitions failed'));
    const changes = new ChangeLog(db, config.changesRetention, (err) => logger.error({ err }, 'numbering the change log failed'));
    changes.startPruning((err) => logger.error({ err }, 'pruning the change log failed'));
    const readCache = new ReadCache(config.readCacheEntries, metrics);
    const searchInsights = new SearchInsights(db, (err) => logger.error({ err }, 'recording search insights failed'));
    const jobFailures = metrics.counter('galley_job_failures_total', 'Background job runs that failed (each is retried with backoff, then kept as dead).');
    const jobs = new JobQueue(db, {
      ...DEFAULT_JOB_OPTIONS,
      concurrency: config.jobConcurrency,
      onError: (err, job) => {
        jobFailures.inc();
        logger.warn({ err, job }, 'background job failed');
      },
    });
    const files = new FileService(db, storage, jobs, collections, path.join(config.dataDir, 'staging'));
    collections.follow(files);
    const searchBuilds = new SearchIndexBuilder(db, jobs, config.searchBuildChunk);
    collections.follow(searchBuilds);
    const fileTokens = new FileTokens(secret.key('file-tokens'));
    const uploads = new UploadService(db, jobs, storage, files.stagingDir, config.uploadExpiryHours * 3_600_000);
    const records = new RecordService(db, collections, changes, files, searchInsights);
    audit.startPruning(config.auditRetentionDays, (err) => logger.error({ err }, 'pruning the audit log failed'));
    const auth = new AuthService(db, collections, changes, audit, limiter);
    records.followDeletes('users', (tx, user, caller) => auth.accountDeletedIn(tx, user, caller));
    if (config.admin) {
      const outcome = await auth.ensureSuperuser(config.admin.email, config.admin.password);
      if (outcome === 'created') logger.info({ email: config.admin.email }, 'superuser created from GALLEY_ADMIN_EMAIL');
    }
    const firstRun = new FirstRun(db, auth);
    const setupToken = await firstRun.issueToken();
    // One-time and useless once a superuser exists; printed so a remote first run is possible.
    if (setupToken) logger.warn(`No superuser yet. Open /admin from this machine to create one, or use this one-time setup token: ${setupToken}`);
    const mfa = new MfaService(db, { secrets: secret.key('mfa'), recoveryCodes: secret.key('mfa-recovery-codes') }, config.mfaIssuer, audit, limiter);
    const signIn = new SignInService(db, auth, mfa);
    // Wake-ups between instances: Redis pub/sub when there is a Redis, else the database's NOTIFY.
    const bus: Bus = config.redisUrl ? await connectRedisBus(config.redisUrl, config.redisPrefix, logger) : new DatabaseBus(db);
    const feed = new ChangeFeed(changes, bus, (err) => logger.error({ err }, 'reading the change log failed'));
    const realtime = new RealtimeHub(
      { collections, auth, log: changes, feed, loadRecords: (def, ids) => records.findByIds(def, ids), logger },
      config.realtime,
    );
    invalidateOnWrites(changes, feed, readCache);
    const webhookTargets = new WebhookTargets(config.webhooks.allow);
    const webhooks = new WebhookService(db, collections, changes, webhookTargets, secret.key('webhooks'));
    const webhookSender = new WebhookSender(db, webhooks, webhookTargets, {
      ...config.webhooks,
      concurrency: WEBHOOK_CONCURRENCY,
      onError: (err) => logger.error({ err }, 'sending webhooks failed'),
    });
    const webhookOutbox = new WebhookOutbox(db, changes, {
      onError: (err) => logger.error({ err }, 'turning changes into webhook deliveries failed'),
      onQueued: () => webhookSender.wake(),
    });
    webhooks.onQueued(() => webhookSender.wake());
    webhooks.onActivated(() => webhookOutbox.webhookActivated());
    jobs.registerPeriodic('webhooks.prune-deliveries', 3_600_000, async () => void (await webhooks.pruneDeliveries(config.webhooks.deliveryRetentionDays)));
    // The feed wakes the outbox for every change that reaches this instance (its own or, through the bus, another's).
    feed.add({ prepare: async () => {}, deliver: () => webhookOutbox.wake(), lost: () => webhookOutbox.wake() });
    await webhookOutbox.start();
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
    metrics.gauge('galley_jobs_pending', 'Background jobs waiting or running (the queue depth, shared by every instance).', () => jobs.pending());
    metrics.gauge('galley_realtime_connections', 'Open realtime WebSocket connections on this instance.', () => realtime.connections);
    const oauth = new OAuthService(db, auth, signIn, config.oauthProviders.map(createOAuthProvider), {
      publicUrl: config.publicUrl,
      allowedOrigins: config.allowedOrigins,
      stateKey: secret.key('oauth-state'),
    });
    const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, folder: path.join(config.dataDir, 'mail'), logger });
    const accountMail = new AccountMail(auth, new AuthTokenStore(db), mailer, config.publicUrl, config.hideAccounts);
    const registration = new Registration(auth, accountMail, config.hideAccounts);
    const ruleTester = new RuleTester(collections, auth, (def, ids) => records.findByIds(def, ids));
    const users = new UserDirectory(db, collections, auth);
    const services: Services = {
      db, collections, records, auth, firstRun, ruleTester, users, mfa, signIn, oauth, secret, changes, storage, bus, realtime, jobs, searchBuilds, files, fileTokens, uploads, metrics, readCache, searchInsights,
      mailer, accountMail, registration, webhooks, webhookOutbox, webhookSender,
    };
    const http = await buildHttpServer(services, {
      bodyLimit: config.bodyLimit,
      allowedOrigins: config.allowedOrigins,
      secureCookies: config.publicUrl.startsWith('https:'),
      version: VERSION,
      logger,
      metricsToken: config.metricsToken,
      adminDir: ADMIN_DIST,
      trustProxy: config.trustProxy,
    });
    await jobs.start();
    await webhookSender.start();
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
          await mailer.close();
          audit.stop();
          await limiter.close();
          feed.stop();
          await webhookOutbox.stop();
          await webhookSender.stop();
          await jobs.stop();
          changes.stop();
          await searchInsights.close();
          await storage.close();
          await bus.close();
          await db.close();
        })()),
    };
  } catch (err) {
    audit.stop();
    await limiter.close().catch(() => {});
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

async function connectRedisBus(url: string, prefix: string, logger: Logger): Promise<RedisBus> {
  const bus = new RedisBus(url, prefix, (err) => logger.warn({ err }, 'redis bus connection problem'));
  try {
    await bus.connect();
  } catch (err) {
    await bus.close();
    throw err;
  }
  return bus;
}
