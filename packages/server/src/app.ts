// The composition root: configuration → adapters → services → HTTP. The one place that picks
// implementations; everything below receives what it needs as arguments.

import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import type { GalleyConfig } from './config/config.ts';
import { AccountMail } from './core/account-mail.ts';
import { AuthService } from './core/auth.ts';
import { AuthTokenStore } from './core/auth-tokens.ts';
import { AuditLog } from './core/audit.ts';
import { NO_LIMITS, RateLimiter } from './core/rate-limit.ts';
import { MemoryRateLimitStore } from './rate-limit/memory.ts';
import { RedisRateLimitStore } from './rate-limit/redis.ts';
import { ChangeLog } from './core/changes.ts';
import { CollectionService } from './core/collections.ts';
import { RecordService } from './core/records.ts';
import { MfaService } from './core/mfa.ts';
import { Registration } from './core/registration.ts';
import { loadServerSecret, type ServerSecret } from './core/secrets.ts';
import { SignInService } from './core/sign-in.ts';
import { connectDatabase } from './db/connect.ts';
import type { Database } from './db/database.ts';
import { migrateSystemTables } from './db/system-schema.ts';
import { buildHttpServer } from './http/server.ts';
import { createMailer, type Mailer } from './mail/mailer.ts';
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
  secret: ServerSecret;
  mailer: Mailer;
  accountMail: AccountMail;
  registration: Registration;
  storage: Storage;
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
    const changes = new ChangeLog(db, config.changesRetention);
    changes.startPruning((err) => logger.error({ err }, 'pruning the change log failed'));
    const records = new RecordService(db, collections, changes);
    audit.startPruning(config.auditRetentionDays, (err) => logger.error({ err }, 'pruning the audit log failed'));
    const auth = new AuthService(db, collections, audit, limiter);
    if (config.admin) {
      const outcome = await auth.ensureSuperuser(config.admin.email, config.admin.password);
      if (outcome === 'created') logger.info({ email: config.admin.email }, 'superuser created from GALLEY_ADMIN_EMAIL');
    }
    const mfa = new MfaService(db, { secrets: secret.key('mfa'), recoveryCodes: secret.key('mfa-recovery-codes') }, config.mfaIssuer);
    const signIn = new SignInService(db, auth, mfa);
    const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, folder: path.join(config.dataDir, 'mail'), logger });
    const accountMail = new AccountMail(auth, new AuthTokenStore(db), mailer, config.publicUrl);
    const registration = new Registration(auth, accountMail, config.hideAccounts);
    const services: Services = { db, collections, records, auth, mfa, signIn, secret, changes, storage, mailer, accountMail, registration };
    const http = await buildHttpServer(services, {
      bodyLimit: config.bodyLimit,
      allowedOrigins: config.allowedOrigins,
      secureCookies: config.publicUrl.startsWith('https:'),
      version: VERSION,
      logger,
    });
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
          changes.stop();
          await storage.close();
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
