// Reference server on SQLite: Fastify + the store in sqlite-store.ts. Usage: … --port N --file posts.db

import { serveReference } from './common.ts';
import { openSqliteStore } from './sqlite-store.ts';

const fileIndex = process.argv.indexOf('--file');
const file = fileIndex >= 0 ? process.argv[fileIndex + 1] : undefined;
if (!file) throw new Error('usage: sqlite-server.ts --port N --file posts.db');
await serveReference(openSqliteStore(file), process.argv.slice(2));
