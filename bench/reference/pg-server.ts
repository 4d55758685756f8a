// Reference server on PostgreSQL: Fastify + the store in pg-store.ts. Usage: … --port N --url postgres://…

import { serveReference } from './common.ts';
import { openPgStore } from './pg-store.ts';

const urlIndex = process.argv.indexOf('--url');
const url = urlIndex >= 0 ? process.argv[urlIndex + 1] : undefined;
if (!url) throw new Error('usage: pg-server.ts --port N --url postgres://…');
await serveReference(openPgStore(url), process.argv.slice(2));
