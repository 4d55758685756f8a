// Picks the database adapter from the configuration: PostgreSQL for a postgres:// URL,
// otherwise SQLite in the data folder.

import fs from 'node:fs';
import path from 'node:path';
import type { Database } from './database.ts';
import { PostgresDatabase } from './postgres.ts';
import { SqliteDatabase } from './sqlite.ts';

/** The SQLite database's file name inside the data folder. */
export const SQLITE_FILE = 'data.db';

export function connectDatabase(options: { databaseUrl?: string; dataDir: string; poolSize: number }): Database {
  if (options.databaseUrl) return new PostgresDatabase({ connectionString: options.databaseUrl, max: options.poolSize });
  fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  return new SqliteDatabase({ filename: path.join(options.dataDir, SQLITE_FILE) });
}
