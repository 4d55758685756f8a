// Turns environment variables and command-line flags into one typed, validated configuration.
// The only module that reads process.env; everything else receives a GalleyConfig.

import net from 'node:net';
import path from 'node:path';
import { parseStorageUrl, type StorageConfig } from './storage-config.ts';

export interface GalleyConfig {
  host: string;
  port: number;
  dataDir: string;
  /** Absent: SQLite in the data folder. */
  databaseUrl?: string;
  redisUrl?: string;
  /** Prefix of every Redis key and channel (GALLEY_REDIS_PREFIX), so deployments can share one Redis. */
  redisPrefix: string;
  /** STORAGE_URL: a local folder (default) or an S3 bucket. */
  storage: StorageConfig;
  publicUrl: string;
  allowedOrigins: string[];
  bodyLimit: number;
  admin?: { email: string; password: string };
  logLevel: string;
  /** Pool size for PostgreSQL. */
  dbPoolSize: number;
  /** GALLEY_UPLOAD_EXPIRY_HOURS: resumable uploads not attached within this time are removed. */
  uploadExpiryHours: number;
  /** GALLEY_JOB_CONCURRENCY: background jobs (thumbnails, cleanup) run at once by this instance. */
  jobConcurrency: number;
  /** GALLEY_SEARCH_BUILD_CHUNK: rows a background search-index build indexes per transaction. */
  searchBuildChunk: number;
  /** GALLEY_SECRET; absent: generated once and kept in the database (core/secrets.ts). */
  secret?: string;
  /** SMTP_URL; absent: mails are written to `<dataDir>/mail/`. */
  smtpUrl?: string;
  /** GALLEY_MAIL_FROM: the From of account mails. */
  mailFrom: string;
  /** GALLEY_AUTH_HIDE_ACCOUNTS: no response tells whether an account exists (registration answers 202). */
  hideAccounts: boolean;
  /** GALLEY_AUDIT_RETENTION_DAYS: audit entries older than this are deleted. */
  auditRetentionDays: number;
  /** GALLEY_RATE_LIMITS (default on): off turns the account endpoints' rate limits off. */
  rateLimits: boolean;
  /**
   * GALLEY_TRUST_PROXY (default off): which proxies' X-Forwarded-For to believe for the client
   * address (rate limits, audit, sessions) — Fastify's trustProxy: true (any), a hop count, or
   * a list of addresses and CIDR ranges.
   */
  trustProxy: boolean | number | string[];
  /** How long the change log keeps changes: GALLEY_CHANGES_RETENTION_HOURS / _ROWS. */
  changesRetention: { hours: number; rows: number };
  /** The issuer name authenticator apps show for Galley's TOTP entries (GALLEY_MFA_ISSUER). */
  mfaIssuer: string;
  /** Statements at least this slow are logged with their plan (GALLEY_SLOW_QUERY_MS; 0: never). */
  slowQueryMs: number;
  /** Bearer token that may read GET /metrics besides superusers (GALLEY_METRICS_TOKEN). */
  metricsToken?: string;
  /** Public reads kept by the server-side cache (GALLEY_READ_CACHE_ENTRIES; 0: no cache). */
  readCacheEntries: number;
  /**
   * Realtime connections: ping interval (GALLEY_REALTIME_PING_SECONDS), send-buffer bound
   * (GALLEY_REALTIME_BUFFER_BYTES) and the shortest time between two writes of events (GALLEY_REALTIME_FLUSH_MS).
   */
  realtime: { pingIntervalMs: number; maxBufferBytes: number; flushIntervalMs: number };
  /** Sign-in providers from GALLEY_OAUTH_<NAME>_*, by lower-cased name. */
  oauthProviders: OAuthProviderConfig[];
  webhooks: WebhookConfig;
}

export interface WebhookConfig {
  /** GALLEY_WEBHOOK_ALLOW: host names, addresses and CIDR ranges a target may have even though they are private; `*` allows any. */
  allow: string[];
  /** GALLEY_WEBHOOK_RETRY_SECONDS: the wait before each retry (jittered); attempts = retries + 1. */
  retryDelaysMs: number[];
  /** GALLEY_WEBHOOK_TIMEOUT_SECONDS: one attempt's limit, connection to the end of the response headers. */
  timeoutMs: number;
  /** GALLEY_WEBHOOK_DISABLE_AFTER: consecutive dead deliveries after which a webhook is disabled. */
  disableAfter: number;
  /** GALLEY_WEBHOOK_DELIVERY_RETENTION_DAYS: finished deliveries older than this leave the log. */
  deliveryRetentionDays: number;
}

/** An OpenID Connect provider found by discovery, or the GitHub preset (GitHub speaks OAuth 2 but not OpenID Connect). */
export type OAuthProviderConfig =
  | { kind: 'oidc'; name: string; issuer: string; clientId: string; clientSecret: string }
  | { kind: 'github'; name: 'github'; clientId: string; clientSecret: string; webUrl: string; apiUrl: string };

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

function parseCount(name: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new ConfigError(`${name} must be a whole number ≥ 0, got "${value}"`);
  return n;
}

/** At most a second: the interval is latency added to every event of a busy instance. */
function parseFlushInterval(value: string): number {
  const ms = parseCount('GALLEY_REALTIME_FLUSH_MS', value);
  if (ms > 1000) throw new ConfigError(`GALLEY_REALTIME_FLUSH_MS must be at most 1000, got "${value}"`);
  return ms;
}

function parsePositiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`${name} must be a positive integer, got "${value}"`);
  return n;
}

function parseTrustProxy(value: string | undefined): boolean | number | string[] {
  const text = value?.trim() ?? '';
  if (text === '' || text === 'false' || text === 'off') return false;
  if (text === 'true') return true;
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops < 1 || hops > 32) throw new ConfigError(`GALLEY_TRUST_PROXY must be true, false, a hop count from 1 to 32, or addresses/CIDR ranges, got "${text}"`);
    return hops;
  }
  const entries = text.split(',').map((e) => e.trim()).filter(Boolean);
  for (const entry of entries) {
    const [address, prefix, extra] = entry.split('/');
    const family = net.isIP(address ?? '');
    const bits = family === 6 ? 128 : 32;
    if (!family || extra !== undefined || (prefix !== undefined && !(/^\d+$/.test(prefix) && Number(prefix) <= bits))) {
      throw new ConfigError(`GALLEY_TRUST_PROXY: "${entry}" is not an IP address or CIDR range`);
    }
  }
  return entries;
}

function parseHttpUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} is not a URL: "${value}"`);
  }
  // Plain HTTP only to this machine (a provider in development or a test); anywhere else a token would cross the network in clear.
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw new ConfigError(`${name} must be an https:// URL (http:// only for 127.0.0.1 or localhost)`);
  // As given: an OpenID issuer must match its discovery document character for character (trailing slash included).
  return value;
}

/**
 * GALLEY_OAUTH_<NAME>_CLIENT_ID, _CLIENT_SECRET and _ISSUER make provider `<name>` (lower-cased);
 * NAME=GITHUB needs no issuer (GALLEY_OAUTH_GITHUB_URL and _API_URL point it at GitHub Enterprise).
 */
function parseOAuthProviders(env: Env): OAuthProviderConfig[] {
  const names = new Set<string>();
  for (const key of Object.keys(env)) {
    const match = /^GALLEY_OAUTH_([A-Z0-9_]+?)_(CLIENT_ID|CLIENT_SECRET|ISSUER)$/.exec(key);
    if (match && env[key]) names.add(match[1]!);
  }
  return [...names].sort().map((NAME): OAuthProviderConfig => {
    const prefix = `GALLEY_OAUTH_${NAME}_`;
    const clientId = env[`${prefix}CLIENT_ID`];
    const clientSecret = env[`${prefix}CLIENT_SECRET`];
    if (!clientId || !clientSecret) throw new ConfigError(`${prefix}CLIENT_ID and ${prefix}CLIENT_SECRET must be set together`);
    if (!/^[A-Z][A-Z0-9_]{0,39}$/.test(NAME)) throw new ConfigError(`OAuth provider name "${NAME}" must start with a letter (A-Z, 0-9, _; at most 40)`);
    if (NAME === 'GITHUB') {
      return {
        kind: 'github',
        name: 'github',
        clientId,
        clientSecret,
        webUrl: parseHttpUrl(`${prefix}URL`, env[`${prefix}URL`] || 'https://github.com').replace(/\/+$/, ''),
        apiUrl: parseHttpUrl(`${prefix}API_URL`, env[`${prefix}API_URL`] || 'https://api.github.com').replace(/\/+$/, ''),
      };
    }
    const issuer = env[`${prefix}ISSUER`];
    if (!issuer) throw new ConfigError(`${prefix}ISSUER must be set: the OpenID Connect issuer URL of provider ${NAME.toLowerCase()}`);
    return { kind: 'oidc', name: NAME.toLowerCase(), issuer: parseHttpUrl(`${prefix}ISSUER`, issuer), clientId, clientSecret };
  });
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
  const metricsToken = env.GALLEY_METRICS_TOKEN || undefined;
  if (metricsToken && metricsToken.length < 16) throw new ConfigError('GALLEY_METRICS_TOKEN must be at least 16 characters');
  const secret = env.GALLEY_SECRET || undefined;
  if (secret && secret.length < 32) throw new ConfigError('GALLEY_SECRET must be at least 32 characters (or unset: one is generated)');
  return {
    host,
    port,
    dataDir,
    databaseUrl,
    redisUrl: env.REDIS_URL || undefined,
    redisPrefix: env.GALLEY_REDIS_PREFIX ?? 'galley:',
    storage: parseStorageUrl(env.STORAGE_URL || undefined, dataDir, env, (m) => new ConfigError(m)),
    publicUrl,
    allowedOrigins,
    bodyLimit: parsePositiveInt('GALLEY_BODY_LIMIT', env.GALLEY_BODY_LIMIT ?? String(10 * 1024 * 1024)),
    admin: email && password ? { email, password } : undefined,
    logLevel: env.GALLEY_LOG_LEVEL ?? 'info',
    dbPoolSize: parsePositiveInt('GALLEY_DB_POOL_SIZE', env.GALLEY_DB_POOL_SIZE ?? '10'),
    uploadExpiryHours: parsePositiveInt('GALLEY_UPLOAD_EXPIRY_HOURS', env.GALLEY_UPLOAD_EXPIRY_HOURS ?? '24'),
    jobConcurrency: parsePositiveInt('GALLEY_JOB_CONCURRENCY', env.GALLEY_JOB_CONCURRENCY ?? '2'),
    searchBuildChunk: parsePositiveInt('GALLEY_SEARCH_BUILD_CHUNK', env.GALLEY_SEARCH_BUILD_CHUNK ?? '2000'),
    secret,
    smtpUrl: parseSmtpUrl(env.SMTP_URL),
    mailFrom: env.GALLEY_MAIL_FROM || `Galley <no-reply@${new URL(publicUrl).hostname}>`,
    hideAccounts: parseBoolean('GALLEY_AUTH_HIDE_ACCOUNTS', env.GALLEY_AUTH_HIDE_ACCOUNTS),
    auditRetentionDays: parsePositiveInt('GALLEY_AUDIT_RETENTION_DAYS', env.GALLEY_AUDIT_RETENTION_DAYS ?? '90'),
    rateLimits: parseSwitch('GALLEY_RATE_LIMITS', env.GALLEY_RATE_LIMITS ?? 'on'),
    trustProxy: parseTrustProxy(env.GALLEY_TRUST_PROXY),
    changesRetention: {
      hours: parsePositiveInt('GALLEY_CHANGES_RETENTION_HOURS', env.GALLEY_CHANGES_RETENTION_HOURS ?? '24'),
      rows: parsePositiveInt('GALLEY_CHANGES_RETENTION_ROWS', env.GALLEY_CHANGES_RETENTION_ROWS ?? '1000000'),
    },
    mfaIssuer: env.GALLEY_MFA_ISSUER || 'Galley',
    slowQueryMs: parseCount('GALLEY_SLOW_QUERY_MS', env.GALLEY_SLOW_QUERY_MS ?? '500'),
    metricsToken,
    readCacheEntries: parseCount('GALLEY_READ_CACHE_ENTRIES', env.GALLEY_READ_CACHE_ENTRIES ?? '1000'),
    realtime: {
      pingIntervalMs: 1000 * parsePositiveInt('GALLEY_REALTIME_PING_SECONDS', env.GALLEY_REALTIME_PING_SECONDS ?? '30'),
      maxBufferBytes: parsePositiveInt('GALLEY_REALTIME_BUFFER_BYTES', env.GALLEY_REALTIME_BUFFER_BYTES ?? String(1024 * 1024)),
      flushIntervalMs: parseFlushInterval(env.GALLEY_REALTIME_FLUSH_MS ?? '50'),
    },
    oauthProviders: parseOAuthProviders(env),
    webhooks: {
      allow: parseWebhookAllow(env.GALLEY_WEBHOOK_ALLOW ?? ''),
      retryDelaysMs: parseSeconds('GALLEY_WEBHOOK_RETRY_SECONDS', env.GALLEY_WEBHOOK_RETRY_SECONDS ?? '30,120,600,3600,10800,21600,43200'),
      timeoutMs: parseSeconds('GALLEY_WEBHOOK_TIMEOUT_SECONDS', env.GALLEY_WEBHOOK_TIMEOUT_SECONDS ?? '10')[0]!,
      disableAfter: parsePositiveInt('GALLEY_WEBHOOK_DISABLE_AFTER', env.GALLEY_WEBHOOK_DISABLE_AFTER ?? '5'),
      deliveryRetentionDays: parsePositiveInt('GALLEY_WEBHOOK_DELIVERY_RETENTION_DAYS', env.GALLEY_WEBHOOK_DELIVERY_RETENTION_DAYS ?? '30'),
    },
  };
}

/** A comma list of positive durations in seconds (fractions allowed, for tests), as milliseconds. */
function parseSeconds(name: string, value: string): number[] {
  const parts = value.split(',').map((p) => p.trim());
  const ms = parts.map((p) => (/^\d+(\.\d+)?$/.test(p) ? Math.round(Number(p) * 1000) : NaN));
  if (parts.length === 0 || parts.length > 20 || ms.some((n) => !Number.isFinite(n) || n <= 0)) {
    throw new ConfigError(`${name} must be a comma list of up to 20 positive numbers of seconds, got "${value}"`);
  }
  return ms;
}

/** `*`, host names, IP addresses and CIDR ranges (IPv4 or IPv6), comma-separated. */
function parseWebhookAllow(value: string): string[] {
  const entries = value.split(',').map((e) => e.trim().toLowerCase()).filter(Boolean);
  for (const entry of entries) {
    if (entry === '*') continue;
    const [address, bits, extra] = entry.split('/');
    const family = net.isIP(address!);
    if (bits !== undefined) {
      const max = family === 4 ? 32 : 128;
      if (!family || extra !== undefined || !/^\d{1,3}$/.test(bits) || Number(bits) > max) throw new ConfigError(`GALLEY_WEBHOOK_ALLOW: "${entry}" is not a CIDR range`);
    } else if (!family && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(entry)) {
      throw new ConfigError(`GALLEY_WEBHOOK_ALLOW: "${entry}" is neither *, a host name, an address nor a CIDR range`);
    }
  }
  return entries;
}

function parseSmtpUrl(value: string | undefined): string | undefined {
  if (!value) return undefined;
  // The URL carries a password: the error names the variable, never the value.
  if (!/^smtps?:\/\/[^\s]+$/.test(value)) throw new ConfigError('SMTP_URL must be an smtp:// or smtps:// URL');
  return value;
}
