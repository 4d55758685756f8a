// Turns environment variables and command-line flags into one typed, validated configuration.
// The only module that reads process.env; everything else receives a GalleyConfig.

import path from 'node:path';
import { parseStorageUrl, type StorageConfig } from './storage-config.ts';

export interface GalleyConfig {
  host: string;
  port: number;
  dataDir: string;
  /** Absent: SQLite in the data folder. */
  databaseUrl?: string;
  redisUrl?: string;
  /** STORAGE_URL: a local folder (default) or an S3 bucket. */
  storage: StorageConfig;
  publicUrl: string;
  allowedOrigins: string[];
  bodyLimit: number;
  admin?: { email: string; password: string };
  logLevel: string;
  /** Pool size for PostgreSQL. */
  dbPoolSize: number;
  /** GALLEY_SECRET; absent: generated once and kept in the database (core/secrets.ts). */
  secret?: string;
  /** SMTP_URL; absent: mails are written to `<dataDir>/mail/`. */
  smtpUrl?: string;
  /** GALLEY_MAIL_FROM: the From of account mails. */
  mailFrom: string;
  /** GALLEY_AUTH_HIDE_ACCOUNTS: no response tells whether an account exists (registration answers 202). */
  hideAccounts: boolean;
  /** GALLEY_REDIS_PREFIX: the prefix of every Redis key, so several deployments can share one Redis. */
  redisPrefix: string;
  /** GALLEY_AUDIT_RETENTION_DAYS: audit entries older than this are deleted. */
  auditRetentionDays: number;
  /** GALLEY_RATE_LIMITS (default on): off turns the account endpoints' rate limits off. */
  rateLimits: boolean;
  /** How long the change log keeps changes: GALLEY_CHANGES_RETENTION_HOURS / _ROWS. */
  changesRetention: { hours: number; rows: number };
  /** The issuer name authenticator apps show for Galley's TOTP entries (GALLEY_MFA_ISSUER). */
  mfaIssuer: string;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

/** Parses `--name value` and `--name=value` flags; positional arguments are ignored here. */
export function parseFlags(argv: readonly string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    if (eq > 0) flags[arg.slice(2, eq)] = arg.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) flags[arg.slice(2)] = argv[++i]!;
    else flags[arg.slice(2)] = 'true';
  }
  return flags;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`PORT must be 0–65535, got "${value}"`);
  return port;
}

function parseBoolean(name: string, value: string | undefined): boolean {
  if (value === undefined || value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new ConfigError(`${name} must be true or false, got "${value}"`);
}

function parseSwitch(name: string, value: string): boolean {
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw new ConfigError(`${name} must be on or off, got "${value}"`);
}

function parsePositiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`${name} must be a positive integer, got "${value}"`);
  return n;
}

export function loadConfig(env: Env = process.env, argv: readonly string[] = process.argv.slice(2), cwd = process.cwd()): GalleyConfig {
  const flags = parseFlags(argv);
  const host = flags.host ?? env.HOST ?? '127.0.0.1';
  const port = parsePort(flags.port ?? env.PORT ?? '8090');
  const dataDir = path.resolve(cwd, flags.dir ?? env.GALLEY_DATA_DIR ?? 'galley_data');
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// URL (leave it unset for SQLite)');
  }
  const publicUrl = (env.GALLEY_PUBLIC_URL ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`).replace(/\/+$/, '');
  let publicOrigin: string;
  try {
    publicOrigin = new URL(publicUrl).origin;
  } catch {
    throw new ConfigError(`GALLEY_PUBLIC_URL is not a URL: "${publicUrl}"`);
  }
  const allowedOrigins = env.GALLEY_ALLOWED_ORIGINS
    ? env.GALLEY_ALLOWED_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean)
    : [publicOrigin];
  const email = env.GALLEY_ADMIN_EMAIL;
  const password = env.GALLEY_ADMIN_PASSWORD;
  if (Boolean(email) !== Boolean(password)) {
    throw new ConfigError('GALLEY_ADMIN_EMAIL and GALLEY_ADMIN_PASSWORD must be set together');
  }
  const secret = env.GALLEY_SECRET || undefined;
  if (secret && secret.length < 32) throw new ConfigError('GALLEY_SECRET must be at least 32 characters (or unset: one is generated)');
  return {
    host,
    port,
    dataDir,
    databaseUrl,
    redisUrl: env.REDIS_URL || undefined,
    storage: parseStorageUrl(env.STORAGE_URL || undefined, dataDir, env, (m) => new ConfigError(m)),
    publicUrl,
    allowedOrigins,
    bodyLimit: parsePositiveInt('GALLEY_BODY_LIMIT', env.GALLEY_BODY_LIMIT ?? String(10 * 1024 * 1024)),
    admin: email && password ? { email, password } : undefined,
    logLevel: env.GALLEY_LOG_LEVEL ?? 'info',
    dbPoolSize: parsePositiveInt('GALLEY_DB_POOL_SIZE', env.GALLEY_DB_POOL_SIZE ?? '10'),
    secret,
    smtpUrl: parseSmtpUrl(env.SMTP_URL),
    mailFrom: env.GALLEY_MAIL_FROM || `Galley <no-reply@${new URL(publicUrl).hostname}>`,
    hideAccounts: parseBoolean('GALLEY_AUTH_HIDE_ACCOUNTS', env.GALLEY_AUTH_HIDE_ACCOUNTS),
    redisPrefix: env.GALLEY_REDIS_PREFIX ?? 'galley:',
    auditRetentionDays: parsePositiveInt('GALLEY_AUDIT_RETENTION_DAYS', env.GALLEY_AUDIT_RETENTION_DAYS ?? '90'),
    rateLimits: parseSwitch('GALLEY_RATE_LIMITS', env.GALLEY_RATE_LIMITS ?? 'on'),
    changesRetention: {
      hours: parsePositiveInt('GALLEY_CHANGES_RETENTION_HOURS', env.GALLEY_CHANGES_RETENTION_HOURS ?? '24'),
      rows: parsePositiveInt('GALLEY_CHANGES_RETENTION_ROWS', env.GALLEY_CHANGES_RETENTION_ROWS ?? '1000000'),
    },
    mfaIssuer: env.GALLEY_MFA_ISSUER || 'Galley',
  };
}

function parseSmtpUrl(value: string | undefined): string | undefined {
  if (!value) return undefined;
  // The URL carries a password: the error names the variable, never the value.
  if (!/^smtps?:\/\/[^\s]+$/.test(value)) throw new ConfigError('SMTP_URL must be an smtp:// or smtps:// URL');
  return value;
}
