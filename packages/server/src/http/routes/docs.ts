// GET /api/v1/openapi.json (the OpenAPI document, rebuilt only when the collections change) and
// GET /docs: Swagger UI from the local swagger-ui-dist files, so it works offline under script-src 'self'.

import crypto from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CollectionDef } from '../../core/collection-model.ts';
import { buildOpenApiDocument } from '../openapi/document.ts';

export interface DocsDeps {
  listCollections(): Promise<CollectionDef[]>;
  /** Changes whenever a collection does: the document is rebuilt only then. */
  collectionsVersion(): number;
  version: string;
  /** The public base URL, listed as the document's server (defaults to the page's own origin). */
  serverUrl?: string;
}

const require = createRequire(import.meta.url);
const SWAGGER_UI_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));
const SWAGGER_UI_VERSION = (require('swagger-ui-dist/package.json') as { version: string }).version;

const JS = 'text/javascript; charset=utf-8';
const IMMUTABLE = 'public, max-age=31536000, immutable';

// A served file, not an inline script, so that the page runs under script-src 'self'.
const INIT_SCRIPT = `// Starts Swagger UI on this server's live OpenAPI document.
'use strict';
window.ui = SwaggerUIBundle({
  url: '/api/v1/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  // No third-party validator badge: the page talks to this server only.
  validatorUrl: null,
});
`;

/**
 * The only files /docs/assets serves. The URL names a key of this map, never a path, so no
 * request can reach another file of node_modules (or anything else) on disk.
 */
const ASSETS = new Map<string, { type: string; file?: string; source?: string }>([
  ['swagger-ui.css', { type: 'text/css; charset=utf-8', file: 'swagger-ui.css' }],
  ['swagger-ui-bundle.js', { type: JS, file: 'swagger-ui-bundle.js' }],
  ['galley-docs.js', { type: JS, source: INIT_SCRIPT }],
]);

type Encoding = 'br' | 'gzip';

/** A response body with its validator and, made once on first demand, its compressed forms. */
interface Payload {
  body: Buffer;
  type: string;
  etag: string;
  encoded: Partial<Record<Encoding, Promise<Buffer>>>;
}

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

function payload(body: Buffer, type: string): Payload {
  // Weak: the compressed forms carry the same validator as the identity form.
  return { body, type, etag: `W/"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`, encoded: {} };
}

function encode(p: Payload, encoding: Encoding): Promise<Buffer> {
  let pending = p.encoded[encoding];
  if (!pending) {
    // Quality 9, not 11: nearly as small, and fast enough that the first visitor does not wait.
    pending = encoding === 'br'
      ? brotli(p.body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 9, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: p.body.length } })
      : gzip(p.body, { level: 9 });
    p.encoded[encoding] = pending;
    pending.catch(() => delete p.encoded[encoding]);
  }
  return pending;
}

/** br if the client takes it, else gzip, else none (a `q=0` refuses an encoding). */
export function preferredEncoding(header: string | undefined): Encoding | undefined {
  if (!header) return undefined;
  const weights = new Map<string, number>();
  for (const part of header.toLowerCase().split(',')) {
    const [coding, ...params] = part.split(';').map((s) => s.trim());
    const q = params.find((s) => s.startsWith('q='));
    if (coding) weights.set(coding, q === undefined ? 1 : Number(q.slice(2)));
  }
  const accepts = (coding: Encoding) => (weights.get(coding) ?? weights.get('*') ?? 0) > 0;
  return accepts('br') ? 'br' : accepts('gzip') ? 'gzip' : undefined;
}

function isFresh(request: FastifyRequest, etag: string): boolean {
  const header = request.headers['if-none-match'];
  if (header === undefined) return false;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || tag.trim().replace(/^W\//, '') === bare);
}

async function sendPayload(request: FastifyRequest, reply: FastifyReply, p: Payload, cacheControl: string): Promise<FastifyReply> {
  reply.header('etag', p.etag).header('cache-control', cacheControl).header('vary', 'accept-encoding').header('x-content-type-options', 'nosniff');
  if (isFresh(request, p.etag)) return reply.code(304).send();
  reply.type(p.type);
  const encoding = p.body.length > 1024 ? preferredEncoding(request.headers['accept-encoding']) : undefined;
  if (encoding === undefined) return reply.send(p.body);
  return reply.header('content-encoding', encoding).send(await encode(p, encoding));
}

function contentSecurityPolicy(serverUrl: string | undefined): string {
  let connect = "'self'";
  if (serverUrl) {
    try {
      connect += ` ${new URL(serverUrl).origin}`;
    } catch {
      // A relative server URL is same-origin already.
    }
  }
  return [
    "default-src 'none'",
    "script-src 'self'",
    // Swagger UI sets style attributes on the elements it renders.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src ${connect}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export async function docsRoutes(app: FastifyInstance, deps: DocsDeps): Promise<void> {
  let cached: { version: number; payload: Promise<Payload> } | undefined;

  function openApiPayload(): Promise<Payload> {
    // The version is read before the definitions: if they change in between, the next request sees
    // a newer version and rebuilds, so a document older than its version is never kept.
    const version = deps.collectionsVersion();
    if (cached?.version === version) return cached.payload;
    const build = deps.listCollections().then((collections) => {
      const document = buildOpenApiDocument(collections, { version: deps.version, serverUrl: deps.serverUrl });
      return payload(Buffer.from(JSON.stringify(document)), 'application/json; charset=utf-8');
    });
    cached = { version, payload: build };
    // A failed build is not cached: the next request tries again.
    build.catch(() => {
      if (cached?.payload === build) cached = undefined;
    });
    return build;
  }

  // Asset URLs carry this tag, so they can be cached for a year and still change with an upgrade.
  const assetTag = crypto.createHash('sha256').update(`${SWAGGER_UI_VERSION}\0${deps.version}\0${INIT_SCRIPT}`).digest('base64url').slice(0, 12);
  const assetUrl = (name: string) => `/docs/assets/${name}?v=${assetTag}`;
  const loaded = new Map<string, Promise<Payload>>();

  function assetPayload(name: string): Promise<Payload> | undefined {
    const asset = ASSETS.get(name);
    if (!asset) return undefined;
    let p = loaded.get(name);
    if (!p) {
      p = (asset.file ? readFile(path.join(SWAGGER_UI_DIR, asset.file)) : Promise.resolve(Buffer.from(asset.source ?? ''))).then((body) => payload(body, asset.type));
      loaded.set(name, p);
      p.catch(() => loaded.delete(name));
    }
    return p;
  }

  const page = Buffer.from(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Galley API reference</title>
<link rel="stylesheet" href="${assetUrl('swagger-ui.css')}">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${assetUrl('swagger-ui-bundle.js')}"></script>
<script src="${assetUrl('galley-docs.js')}"></script>
</body>
</html>
`);
  const pagePayload = payload(page, 'text/html; charset=utf-8');
  const csp = contentSecurityPolicy(deps.serverUrl);

  app.get('/api/v1/openapi.json', async (request, reply) => sendPayload(request, reply, await openApiPayload(), 'no-cache'));

  app.get('/docs', async (request, reply) => {
    reply.header('content-security-policy', csp).header('referrer-policy', 'no-referrer');
    return sendPayload(request, reply, pagePayload, 'no-cache');
  });
  app.get('/docs/', async (_request, reply) => reply.redirect('/docs', 301));

  app.get<{ Params: { file: string }; Querystring: { v?: string } }>('/docs/assets/:file', async (request, reply) => {
    const asset = assetPayload(request.params.file);
    if (!asset) {
      reply.callNotFound();
      return reply;
    }
    // Only a URL of this build may be cached for good; an old or missing tag must revalidate.
    return sendPayload(request, reply, await asset, request.query.v === assetTag ? IMMUTABLE : 'no-cache');
  });
}
