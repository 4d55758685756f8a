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
  // Later steps, one per capability, in version order: 3 accounts, 4 MFA and OAuth, 5 change log
  // and realtime, 6 files and jobs.
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
