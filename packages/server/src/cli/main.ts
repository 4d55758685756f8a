// The `galley` command: `serve` (the default) runs the server; `admin create EMAIL` adds a
// superuser, asking for the password (or reading it from standard input when piped); `typegen`
// writes TypeScript types for the collections.

import { createInterface } from 'node:readline';
import { GalleyError, GalleyNetworkError } from '@galley/sdk';
import { createApp, createLogger, VERSION } from '../app.ts';
import { ConfigError, loadConfig } from '../config/config.ts';
import { ApiError } from '../core/api-error.ts';
import { AuthService } from '../core/auth.ts';
import { ChangeLog } from '../core/changes.ts';
import { CollectionService } from '../core/collections.ts';
import { connectDatabase } from '../db/connect.ts';
import { DatabaseUnavailableError } from '../db/database.ts';
import { migrateSystemTables } from '../db/system-schema.ts';
import { checkRule } from '../rules/rule-check.ts';
import { typegen } from './typegen.ts';

const HELP = `galley ${VERSION}

Usage:
  galley serve [--port 8090] [--host 127.0.0.1] [--dir ./galley_data]
  galley admin create EMAIL [--dir ./galley_data]     (asks for the password)
  galley typegen --url URL [--out FILE]               (GALLEY_TOKEN, or GALLEY_ADMIN_EMAIL/PASSWORD)
  galley typegen [--dir ./galley_data] [--out FILE]   (reads the database directly)

Environment: PORT, HOST, GALLEY_DATA_DIR, DATABASE_URL, GALLEY_ADMIN_EMAIL, GALLEY_ADMIN_PASSWORD,
GALLEY_PUBLIC_URL, GALLEY_ALLOWED_ORIGINS, GALLEY_BODY_LIMIT, GALLEY_LOG_LEVEL. See the README.`;

async function readPassword(): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdin.isTTY ? process.stderr : undefined, terminal: process.stdin.isTTY });
  if (process.stdin.isTTY) {
    // Do not echo what is typed.
    const output = rl as unknown as { _writeToOutput: (s: string) => void };
    process.stderr.write('Password: ');
    output._writeToOutput = () => {};
  }
  const line = await new Promise<string>((resolve) => rl.once('line', resolve).once('close', () => resolve('')));
  rl.close();
  if (process.stdin.isTTY) process.stderr.write('\n');
  return line;
}

async function serve(argv: string[]): Promise<void> {
  const config = loadConfig(process.env, argv);
  const app = await createApp(config);
  const address = await app.listen();
  app.logger.info({ address, database: config.databaseUrl ? 'postgres' : 'sqlite', dataDir: config.dataDir }, `Galley ${VERSION} listening on ${address}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutting down: finishing in-flight requests');
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function adminCreate(argv: string[]): Promise<void> {
  const email = argv.find((a) => !a.startsWith('--') && a.includes('@'));
  if (!email) throw new ConfigError('usage: galley admin create EMAIL');
  const config = loadConfig(process.env, argv);
  const db = connectDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 });
  try {
    await migrateSystemTables(db);
    const collections = new CollectionService(db, checkRule);
    await collections.load();
    const auth = new AuthService(db, collections, new ChangeLog(db, config.changesRetention));
    const user = await auth.createUser({ email, password: await readPassword(), roles: ['admin'], verified: true });
    process.stdout.write(`superuser ${user.email} created (id ${user.id})\n`);
  } finally {
    await db.close();
  }
}

async function main(): Promise<void> {
  const [command = 'serve', ...rest] = process.argv.slice(2);
  if (command === '--help' || command === '-h' || command === 'help') return void process.stdout.write(`${HELP}\n`);
  if (command === '--version') return void process.stdout.write(`${VERSION}\n`);
  if (rest.includes('--help') || rest.includes('-h')) return void process.stdout.write(`${HELP}\n`);
  if (command === 'serve') return serve(rest);
  if (command === 'admin' && rest[0] === 'create') return adminCreate(rest.slice(1));
  if (command === 'typegen') {
    const { text, collections, out } = await typegen(rest, process.env);
    if (out) return void process.stderr.write(`galley: wrote types for ${collections} collections to ${out}\n`);
    return void process.stdout.write(text);
  }
  if (command.startsWith('--')) return serve([command, ...rest]);
  throw new ConfigError(`unknown command "${command}"\n\n${HELP}`);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`galley: ${err.message}\n`);
  else if (err instanceof GalleyError) process.stderr.write(`galley: the server answered ${err.status} ${err.code}: ${err.detail}\n`);
  else if (err instanceof GalleyNetworkError) process.stderr.write(`galley: ${err.message}\n`);
  else if (err instanceof DatabaseUnavailableError) process.stderr.write('galley: the database did not answer (check DATABASE_URL and that the server is running)\n');
  else if (err instanceof ApiError) process.stderr.write(`galley: ${err.detail}${err.fieldErrors ? ` (${err.fieldErrors.map((e) => `${e.field}: ${e.message}`).join('; ')})` : ''}\n`);
  else createLogger('error').error({ err }, 'galley failed to start');
  process.exit(1);
});
