// The system tables (names start with `_`), created and upgraded in order at start.
// Each step runs once, in a transaction, and is recorded in `_migrations`.

import { SqlParams, type Database, type Dialect, type Queryable } from './database.ts';
import { timestampColumnType } from './column-types.ts';

interface Step {
  version: number;
  sql(dialect: Dialect): string;
}

const STEPS: Step[] = [
  {
    version: 1,
    sql: (d) => {
      const ts = timestampColumnType(d);
      const json = d === 'postgres' ? 'JSONB' : 'TEXT';
      return `
CREATE TABLE "_collections" (
  "name" TEXT PRIMARY KEY,
  "definition" ${json} NOT NULL,
  "created" ${ts} NOT NULL,
  "updated" ${ts} NOT NULL
);
CREATE TABLE "_sessions" (
  "id" TEXT PRIMARY KEY,
  "token_hash" TEXT NOT NULL UNIQUE,
  "user_id" TEXT NOT NULL,
  "created" ${ts} NOT NULL,
  "last_seen" ${ts} NOT NULL,
  "expires" ${ts} NOT NULL,
  "user_agent" TEXT,
  "ip" TEXT
);
CREATE INDEX "_sessions_user" ON "_sessions" ("user_id");
CREATE TABLE "_idempotency" (
  "scope" TEXT NOT NULL,
  "key" TEXT NOT NULL,
  "request_hash" TEXT NOT NULL,
  "status" INTEGER NOT NULL,
  "body" TEXT NOT NULL,
  "location" TEXT,
  "created" ${ts} NOT NULL,
  PRIMARY KEY ("scope", "key")
);
CREATE INDEX "_idempotency_created" ON "_idempotency" ("created");
`;
    },
  },
  {
    // The server secret (core/secrets.ts), shared by every instance.
    version: 2,
    sql: (d) => `
CREATE TABLE "_secrets" (
  "name" TEXT PRIMARY KEY,
  "value" TEXT NOT NULL,
  "created" ${timestampColumnType(d)} NOT NULL
);
`,
  },
  {
    // Accounts (core/auth-tokens.ts, core/audit.ts, core/api-keys.ts): single-use mail tokens,
    // the audit log (shaped like a collection table so record lists can serve it), API keys.
    version: 3,
    sql: (d) => {
      const ts = timestampColumnType(d);
      const json = d === 'postgres' ? 'JSONB' : 'TEXT';
      return `
CREATE TABLE "_auth_tokens" (
  "token_hash" TEXT PRIMARY KEY,
  "purpose" TEXT NOT NULL,
  "user_id" TEXT NOT NULL,
  "email" TEXT NOT NULL,
  "created" ${ts} NOT NULL,
  "expires" ${ts} NOT NULL
);
CREATE INDEX "_auth_tokens_user" ON "_auth_tokens" ("user_id", "purpose");
CREATE INDEX "_auth_tokens_expires" ON "_auth_tokens" ("expires");
CREATE TABLE "_audit" (
  "id" TEXT PRIMARY KEY,
  "created" ${ts} NOT NULL,
  "updated" ${ts} NOT NULL,
  "action" TEXT NOT NULL,
  "user" TEXT,
  "actor" TEXT,
  "email" TEXT,
  "ip" TEXT,
  "user_agent" TEXT,
  "detail" ${json}
);
CREATE INDEX "_audit_created" ON "_audit" ("created", "id");
CREATE INDEX "_audit_user" ON "_audit" ("user", "created");
CREATE TABLE "_api_keys" (
  "id" TEXT PRIMARY KEY,
  "name" TEXT NOT NULL,
  "secret_hash" TEXT NOT NULL UNIQUE,
  "roles" ${json} NOT NULL,
  "created" ${ts} NOT NULL,
  "expires" ${ts},
  "last_used" ${ts},
  "created_by" TEXT
);
`;
    },
  },
  {
    // MFA (core/mfa.ts, core/mfa-tickets.ts) and OAuth identities (core/oauth.ts).
    version: 4,
    sql: (d) => {
      const ts = timestampColumnType(d);
      return `
CREATE TABLE "_mfa_totp" (
  "user_id" TEXT PRIMARY KEY,
  "secret" TEXT NOT NULL,
  "confirmed" ${ts},
  "last_step" INTEGER,
  "created" ${ts} NOT NULL
);
CREATE TABLE "_mfa_recovery_codes" (
  "user_id" TEXT NOT NULL,
  "code_hash" TEXT NOT NULL,
  "used" ${ts},
  PRIMARY KEY ("user_id", "code_hash")
);
CREATE TABLE "_mfa_tickets" (
  "token_hash" TEXT PRIMARY KEY,
  "user_id" TEXT NOT NULL,
  "expires" ${ts} NOT NULL,
  "attempts" INTEGER NOT NULL,
  "created" ${ts} NOT NULL
);
CREATE INDEX "_mfa_tickets_expires" ON "_mfa_tickets" ("expires");
CREATE TABLE "_oauth_identities" (
  "provider" TEXT NOT NULL,
  "subject" TEXT NOT NULL,
  "user_id" TEXT NOT NULL,
  "email" TEXT,
  "created" ${ts} NOT NULL,
  PRIMARY KEY ("provider", "subject")
);
CREATE INDEX "_oauth_identities_user" ON "_oauth_identities" ("user_id");
`;
    },
  },
  {
    // The change log (core/changes.ts): one row per record change, numbered gap-free in commit
    // order from the one-row counter `_changes_head`, which also remembers how far it was pruned;
    // the positions of durable consumers of the log; webhooks and their deliveries (an outbox).
    version: 5,
    sql: (d) => `
CREATE TABLE "_changes" (
  "seq" ${d === 'postgres' ? 'BIGINT' : 'INTEGER'} PRIMARY KEY,
  "collection" TEXT NOT NULL,
  "record_id" TEXT NOT NULL,
  "action" TEXT NOT NULL,
  "record" TEXT,
  "time" ${timestampColumnType(d)} NOT NULL
);
CREATE TABLE "_changes_head" (
  "id" INTEGER PRIMARY KEY,
  "seq" BIGINT NOT NULL,
  "pruned" BIGINT NOT NULL
);
INSERT INTO "_changes_head" ("id", "seq", "pruned") VALUES (1, 0, 0);
CREATE TABLE "_change_consumers" (
  "name" TEXT PRIMARY KEY,
  "position" BIGINT NOT NULL
);
CREATE TABLE "_webhooks" (
  "id" TEXT PRIMARY KEY,
  "url" TEXT NOT NULL,
  "events" TEXT NOT NULL,
  "status" TEXT NOT NULL,
  "failures" INTEGER NOT NULL,
  "disabled_reason" TEXT,
  "created" ${timestampColumnType(d)} NOT NULL,
  "updated" ${timestampColumnType(d)} NOT NULL
);
CREATE TABLE "_webhook_deliveries" (
  "id" TEXT PRIMARY KEY,
  "webhook_id" TEXT NOT NULL,
  "seq" BIGINT NOT NULL,
  "event" TEXT NOT NULL,
  "payload" TEXT NOT NULL,
  "status" TEXT NOT NULL,
  "attempts" INTEGER NOT NULL,
  "next_attempt" ${timestampColumnType(d)} NOT NULL,
  "locked_until" ${timestampColumnType(d)},
  "response_status" INTEGER,
  "error" TEXT,
  "created" ${timestampColumnType(d)} NOT NULL,
  "updated" ${timestampColumnType(d)} NOT NULL
);
CREATE INDEX "_webhook_deliveries_due" ON "_webhook_deliveries" ("status", "next_attempt");
CREATE INDEX "_webhook_deliveries_webhook" ON "_webhook_deliveries" ("webhook_id", "created");
`,
  },
  {
    // Background jobs (core/jobs.ts), file metadata (core/files.ts) and resumable uploads (core/uploads.ts).
    version: 6,
    sql: (d) => {
      const ts = timestampColumnType(d);
      const json = d === 'postgres' ? 'JSONB' : 'TEXT';
      const big = d === 'postgres' ? 'BIGINT' : 'INTEGER';
      return `
CREATE TABLE "_jobs" (
  "id" TEXT PRIMARY KEY,
  "kind" TEXT NOT NULL,
  "payload" ${json} NOT NULL,
  "state" TEXT NOT NULL CHECK ("state" IN ('queued', 'running', 'dead')),
  "attempts" INTEGER NOT NULL DEFAULT 0,
  "max_attempts" INTEGER NOT NULL,
  "run_at" ${ts} NOT NULL,
  "lease_until" ${ts},
  "locked_by" TEXT,
  "last_error" TEXT,
  "unique_key" TEXT UNIQUE,
  "created" ${ts} NOT NULL
);
CREATE INDEX "_jobs_due" ON "_jobs" ("state", "run_at");
CREATE TABLE "_files" (
  "id" TEXT PRIMARY KEY,
  "collection" TEXT NOT NULL,
  "record_id" TEXT NOT NULL,
  "field" TEXT NOT NULL,
  "name" TEXT NOT NULL,
  "key" TEXT NOT NULL UNIQUE,
  "original_name" TEXT NOT NULL,
  "size" ${big} NOT NULL,
  "sha256" TEXT NOT NULL,
  "type" TEXT NOT NULL,
  "uploader" TEXT,
  "thumbs" ${json} NOT NULL,
  "created" ${ts} NOT NULL,
  UNIQUE ("collection", "record_id", "name")
);
CREATE TABLE "_uploads" (
  "id" TEXT PRIMARY KEY,
  "owner" TEXT,
  "size" ${big} NOT NULL,
  "filename" TEXT NOT NULL,
  "created" ${ts} NOT NULL,
  "expires" ${ts} NOT NULL,
  "completed" ${ts}
);
CREATE INDEX "_uploads_expires" ON "_uploads" ("expires");
`;
    },
  },
  {
    // Search (db/search-ddl.ts, core/search-insights.ts): on PostgreSQL, galley_fold() folds case and
    // accents for tsvector columns — with the unaccent extension when it can be had (it is "trusted":
    // a database owner may create it), case only otherwise, so a server never fails to start for it.
    // Search terms with their result counts, aggregated per collection and term.
    version: 7,
    sql: (d) => `
${d === 'postgres' ? POSTGRES_FOLD_FUNCTION : ''}
CREATE TABLE "_search_terms" (
  "collection" TEXT NOT NULL,
  "term" TEXT NOT NULL,
  "searches" INTEGER NOT NULL,
  "zero_results" INTEGER NOT NULL,
  "last_results" INTEGER NOT NULL,
  "last_searched" ${timestampColumnType(d)} NOT NULL,
  PRIMARY KEY ("collection", "term")
);
CREATE INDEX "_search_terms_zero" ON "_search_terms" ("zero_results", "last_searched");
`,
  },
  {
    // Resumable uploads keep their bytes in the Storage port as parts (core/upload-store.ts), so any
    // instance can take an upload's next request; the tus metadata joins the upload's row.
    version: 8,
    sql: (d) => `
ALTER TABLE "_uploads" ADD COLUMN "metadata" TEXT;
CREATE TABLE "_upload_parts" (
  "upload_id" TEXT NOT NULL,
  "offset" ${d === 'postgres' ? 'BIGINT' : 'INTEGER'} NOT NULL,
  "size" ${d === 'postgres' ? 'BIGINT' : 'INTEGER'} NOT NULL,
  "key" TEXT NOT NULL,
  PRIMARY KEY ("upload_id", "offset")
);
`,
  },
  {
    // Webhooks (core/webhooks.ts, core/webhook-outbox.ts, core/webhook-sender.ts): the signing
    // secret sealed at rest, a description, the change-log number a webhook starts after (so it
    // never receives what happened before it existed or while it was disabled); per delivery, the
    // lease owner, the last attempt's time and duration, and a short excerpt of the response.
    version: 9,
    sql: (d) => {
      const ts = timestampColumnType(d);
      return `
ALTER TABLE "_webhooks" ADD COLUMN "description" TEXT;
ALTER TABLE "_webhooks" ADD COLUMN "secret" TEXT;
ALTER TABLE "_webhooks" ADD COLUMN "from_seq" BIGINT NOT NULL DEFAULT 0;
ALTER TABLE "_webhook_deliveries" ADD COLUMN "locked_by" TEXT;
ALTER TABLE "_webhook_deliveries" ADD COLUMN "last_attempt" ${ts};
ALTER TABLE "_webhook_deliveries" ADD COLUMN "duration_ms" INTEGER;
ALTER TABLE "_webhook_deliveries" ADD COLUMN "response_excerpt" TEXT;
DROP INDEX "_webhook_deliveries_webhook";
CREATE INDEX "_webhook_deliveries_webhook" ON "_webhook_deliveries" ("webhook_id", "created", "seq", "id");
`;
    },
  },
  {
    // PostgreSQL's change log is written in two steps (core/changes.ts): a write's transaction adds
    // its changes here, unnumbered and without a lock, and right after it commits they are moved
    // into `_changes` with their gap-free numbers, many transactions' changes at a time.
    version: 10,
    sql: (d) =>
      d === 'postgres'
        ? `
CREATE TABLE "_changes_pending" (
  "ticket" BIGSERIAL PRIMARY KEY,
  "collection" TEXT NOT NULL,
  "record_id" TEXT NOT NULL,
  "action" TEXT NOT NULL,
  "record" TEXT,
  "time" TIMESTAMPTZ NOT NULL
);
`
        : 'SELECT 1',
  },
  {
    // Background builds of full-text indexes (core/search-builds.ts, db/search-ddl.ts): one row per
    // collection whose index is being built; gone once it is complete. `build` names the build, so a
    // job of a build that was replaced stops; `upto` is how far it got — SQLite: the last rowid in
    // the FTS5 index (the triggers keep only rows up to it); PostgreSQL: the last id backfilled.
    version: 11,
    sql: (d) => {
      const ts = timestampColumnType(d);
      return `
CREATE TABLE "_search_builds" (
  "collection" TEXT PRIMARY KEY,
  "build" TEXT NOT NULL,
  "phase" TEXT NOT NULL CHECK ("phase" IN ('rows', 'index')),
  "upto" ${d === 'postgres' ? 'TEXT' : 'INTEGER'} NOT NULL,
  "indexed" BIGINT NOT NULL,
  "total" BIGINT NOT NULL,
  "started" ${ts} NOT NULL,
  "updated" ${ts} NOT NULL
);
`;
    },
  },
  // Steps are appended in version order as capabilities land (3 accounts).
];

/** lower(unaccent(x)), schema-qualified and IMMUTABLE (unaccent() itself is only STABLE). */
const POSTGRES_FOLD_FUNCTION = `
DO $galley$
DECLARE
  ext_schema TEXT;
BEGIN
  BEGIN
    CREATE EXTENSION IF NOT EXISTS unaccent;
  EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'unaccent is not available: search folds case but not accents';
  END;
  SELECT n.nspname INTO ext_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'unaccent';
  IF ext_schema IS NULL THEN
    CREATE FUNCTION galley_fold(TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT lower($1)';
  ELSE
    EXECUTE format('CREATE FUNCTION galley_fold(TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS %L',
      format('SELECT lower(%I.unaccent(%L::regdictionary, $1))', ext_schema, ext_schema || '.unaccent'));
  END IF;
END
$galley$;
`;

export async function migrateSystemTables(db: Database): Promise<void> {
  // On PostgreSQL several instances may start at once: every step, and the creation of
  // `_migrations` itself, runs under one advisory lock. (Two concurrent CREATE TABLE IF NOT EXISTS
  // can both miss the table and one then fails on a catalog unique index.)
  const serialise = (tx: Queryable) => (db.dialect === 'postgres' ? tx.exec('SELECT pg_advisory_xact_lock(7311001)') : Promise.resolve());
  await db.transaction(async (tx) => {
    await serialise(tx);
    await tx.exec(`CREATE TABLE IF NOT EXISTS "_migrations" ("version" INTEGER PRIMARY KEY, "applied" TEXT NOT NULL)`);
  });
  for (const step of STEPS) {
    await db.transaction(async (tx) => {
      await serialise(tx);
      const check = new SqlParams(db.dialect);
      const done = await tx.get(`SELECT 1 AS x FROM "_migrations" WHERE "version" = ${check.add(step.version)}`, check.values);
      if (done) return;
      await tx.exec(step.sql(db.dialect));
      const record = new SqlParams(db.dialect);
      await tx.run(`INSERT INTO "_migrations" ("version", "applied") VALUES (${record.add(step.version)}, ${record.add(new Date().toISOString())})`, record.values);
    });
  }
}
