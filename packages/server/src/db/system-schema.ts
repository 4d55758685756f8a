// The system tables (names start with `_`), created and upgraded in order at start.
// Each step runs once, in a transaction, and is recorded in `_migrations`.

import { SqlParams, type Database, type Dialect } from './database.ts';
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
  // Later steps, one per capability, in version order: 3 accounts, 4 MFA and OAuth, 5 change log
  // and realtime, 6 files and jobs.
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
];

export async function migrateSystemTables(db: Database): Promise<void> {
  await db.exec(`CREATE TABLE IF NOT EXISTS "_migrations" ("version" INTEGER PRIMARY KEY, "applied" TEXT NOT NULL)`);
  for (const step of STEPS) {
    await db.transaction(async (tx) => {
      // On PostgreSQL several instances may start at once: serialise them on an advisory lock.
      if (db.dialect === 'postgres') await tx.exec('SELECT pg_advisory_xact_lock(7311001)');
      const check = new SqlParams(db.dialect);
      const done = await tx.get(`SELECT 1 AS x FROM "_migrations" WHERE "version" = ${check.add(step.version)}`, check.values);
      if (done) return;
      await tx.exec(step.sql(db.dialect));
      const record = new SqlParams(db.dialect);
      await tx.run(`INSERT INTO "_migrations" ("version", "applied") VALUES (${record.add(step.version)}, ${record.add(new Date().toISOString())})`, record.values);
    });
  }
}
