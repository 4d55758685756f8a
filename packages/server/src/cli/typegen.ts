// `galley typegen`: writes TypeScript types for every collection, read from a running server as a
// superuser (--url) or straight from the database a server would use (--dir, or DATABASE_URL).

import fs from 'node:fs';
import path from 'node:path';
import type { CollectionDef } from '@galley/protocol';
import { createClient } from '@galley/sdk';
import { generateTypes } from '@galley/sdk/typegen';
import { ConfigError, loadConfig, parseFlags } from '../config/config.ts';
import { CollectionService } from '../core/collections.ts';
import { connectDatabase, SQLITE_FILE } from '../db/connect.ts';
import { checkRule } from '../rules/rule-check.ts';

type Env = Record<string, string | undefined>;

/** Over HTTP with GALLEY_TOKEN, or a session opened (and closed again) with the superuser's password. */
async function fromServer(url: string, env: Env): Promise<CollectionDef[]> {
  const galley = createClient(url);
  const token = env.GALLEY_TOKEN;
  const { GALLEY_ADMIN_EMAIL: email, GALLEY_ADMIN_PASSWORD: password } = env;
  if (!token && !(email && password)) throw new ConfigError('typegen --url needs GALLEY_TOKEN, or GALLEY_ADMIN_EMAIL and GALLEY_ADMIN_PASSWORD of a superuser');
  if (token) await galley.auth.setToken(token);
  else if (!('token' in (await galley.auth.login(email!, password!)))) {
    throw new ConfigError('this superuser signs in with a second factor: set GALLEY_TOKEN to a session token or API key instead');
  }
  try {
    return await galley.collections.list();
  } finally {
    if (!token) await galley.auth.logout();
  }
}

/** Read-only: an absent SQLite file is an error, never a new empty data folder. */
async function fromDatabase(argv: readonly string[], env: Env): Promise<{ collections: CollectionDef[]; source: string }> {
  const config = loadConfig(env, argv);
  if (!config.databaseUrl && !fs.existsSync(path.join(config.dataDir, SQLITE_FILE))) {
    throw new ConfigError(`no Galley database in ${config.dataDir} (pass --dir DATA_DIR, --url URL, or set DATABASE_URL)`);
  }
  const db = connectDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 });
  try {
    const service = new CollectionService(db, checkRule);
    await service.load();
    // The file's header says where the types came from: never the database URL (it may hold a password).
    const source = config.databaseUrl ? 'the PostgreSQL database of DATABASE_URL' : `the SQLite database in ${path.basename(config.dataDir)}/`;
    return { collections: service.list(), source };
  } finally {
    await db.close();
  }
}

/** Reads the definitions and writes the types to `--out`; the text is returned either way. */
export async function typegen(argv: readonly string[], env: Env): Promise<{ text: string; collections: number; out?: string }> {
  const flags = parseFlags(argv);
  if (flags.url !== undefined && flags.dir !== undefined) throw new ConfigError('typegen reads from --url or from --dir, not both');
  let read: { collections: CollectionDef[]; source: string };
  if (flags.url !== undefined) {
    if (!URL.canParse(flags.url) || !/^https?:$/.test(new URL(flags.url).protocol)) throw new ConfigError('--url must be an http(s) URL');
    read = { collections: await fromServer(flags.url, env), source: new URL(flags.url).origin };
  } else {
    read = await fromDatabase(argv, env);
  }
  const text = generateTypes(read.collections, read.source);
  const out = flags.out === undefined || flags.out === 'true' ? undefined : flags.out;
  if (out) {
    fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    fs.writeFileSync(out, text);
  }
  return { text, collections: read.collections.length, out };
}
