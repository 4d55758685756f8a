// Builds the OpenAPI 3.1 document of Galley's HTTP API (contract §9) from the collection
// definitions. A pure function: routes/docs.ts caches its result and serves it.

import type { CollectionDef } from '../../core/collection-model.ts';
import { SESSION_COOKIE } from '../session.ts';
import { dashboardPaths, dashboardSchemas } from './dashboard-paths.ts';
import { fixedPaths, fixedSchemas } from './fixed-paths.ts';
import { problemResponses, problemSchemas, type OpenApiObject } from './problems.ts';
import { recordParameters, recordPaths, sharedHeaders } from './record-paths.ts';
import { isUsers, recordSchemas } from './record-schemas.ts';
import { webhookPaths, webhookSchemas } from './webhook-paths.ts';

export interface OpenApiOptions {
  /** The public base URL (`GALLEY_PUBLIC_URL`); without it, clients use the origin they loaded the document from. */
  serverUrl?: string;
  /** The Galley version, as `info.version`. */
  version: string;
}

const DESCRIPTION = [
  'The HTTP API of a Galley server: accounts, collection definitions and the records of every collection.',
  '',
  '**Authentication.** Sign in with `POST /api/v1/auth/login`, then send the token as `Authorization: Bearer <token>`, ' +
    `or let the browser send the \`${SESSION_COOKIE}\` cookie. Cookie-authenticated POST, PATCH and DELETE requests must come ` +
    'from an allowed origin.',
  '',
  '**Errors** are RFC 9457 problems (`application/problem+json`) with a stable `code`: branch on `status` and `code`, never on wording. ' +
    'Every code is listed in docs/errors.md.',
  '',
  '**Lists** are paged by opaque cursor: pass `nextCursor` back as `cursor` until it is null.',
].join('\n');

const FIXED_TAGS = [
  { name: 'Health', description: 'Readiness of the server and its database.' },
  { name: 'Auth', description: 'Sessions: sign in, sign out, who am I.' },
  { name: 'MFA', description: 'A second factor (TOTP and recovery codes), and the second step of a sign-in.' },
  { name: 'OAuth', description: 'Sign-in with OpenID Connect providers and GitHub: a browser flow of redirects.' },
  { name: 'Collections', description: 'Collection definitions (superusers only). Changing one migrates its table in place.' },
  { name: 'Batch', description: 'Several record writes in one transaction.' },
  { name: 'Files', description: 'Downloads of record files, thumbnails, and tokens for protected files.' },
  { name: 'API description', description: 'This document.' },
  { name: 'Operations', description: 'Metrics and search insights for whoever runs the server.' },
  { name: 'Webhooks', description: 'Record events POSTed to URLs, signed, retried, with a delivery log (superusers only).' },
];

export function buildOpenApiDocument(collections: CollectionDef[], opts: OpenApiOptions): Record<string, unknown> {
  // Sorted, so that the document (and so its ETag) does not depend on the order definitions load in.
  const sorted = [...collections].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const known = new Set(sorted.map((c) => c.name));

  const schemas: Record<string, OpenApiObject> = { ...problemSchemas(), ...fixedSchemas(sorted.find(isUsers)), ...webhookSchemas(), ...dashboardSchemas() };
  const paths: Record<string, OpenApiObject> = { ...fixedPaths(), ...webhookPaths(), ...dashboardPaths() };
  for (const collection of sorted) {
    Object.assign(schemas, recordSchemas(collection, known));
    Object.assign(paths, recordPaths(collection));
  }

  return {
    openapi: '3.1.0',
    info: { title: 'Galley API', version: opts.version, description: DESCRIPTION, license: { name: 'MIT', identifier: 'MIT' } },
    ...(opts.serverUrl ? { servers: [{ url: opts.serverUrl.replace(/\/+$/, '') || '/' }] } : {}),
    tags: [...FIXED_TAGS, ...sorted.map((c) => ({ name: c.name, description: `Records of the \`${c.name}\` collection.` }))],
    paths,
    components: {
      schemas,
      responses: problemResponses(),
      parameters: recordParameters(),
      headers: sharedHeaders(),
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'An opaque session token from `POST /api/v1/auth/login` (or an API key). Never accepted in a URL.',
        },
        cookie: {
          type: 'apiKey',
          in: 'cookie',
          name: SESSION_COOKIE,
          description: 'The HttpOnly session cookie set at sign-in. Unsafe requests must come from an allowed Origin (CSRF).',
        },
      },
    },
  };
}
