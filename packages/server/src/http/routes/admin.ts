// GET /admin: the dashboard (packages/admin, built by Vite). Content-hashed files under
// /admin/assets/ are cached for a year and sent pre-compressed; every other /admin path is the
// single page (index.html, revalidated on each load) under a Content-Security-Policy with no inline code.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ApiError } from '../../core/api-error.ts';
import { sendProblem } from '../problem.ts';

export interface AdminDeps {
  /** The build output: index.html and assets/. */
  dir: string;
}

/**
 * Scripts and styles come only from this server's own files; the API and realtime socket are on
 * the same origin; images also as data: URLs (the MFA enrolment QR code). No frames, no plugins.
 */
export const ADMIN_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export async function adminRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  app.setErrorHandler((error, request, reply) => {
    // @fastify/send refuses `..` and other non-canonical paths with a 403; to a visitor that is
    // simply a file that is not there, and it must not read as a server failure.
    const status = (error as { statusCode?: unknown }).statusCode;
    if (status === 403 || status === 400) return sendProblem(reply, new ApiError('not_found', `no file at ${request.url.split('?')[0]!.slice(0, 200)}`));
    throw error;
  });

  await app.register(fastifyStatic, {
    root: path.join(deps.dir, 'assets'),
    prefix: '/admin/assets/',
    // Names carry their content hash: a changed file is a new URL, so a year is safe.
    maxAge: '365d',
    immutable: true,
    // assets/x.js.br and .gz are written by the build (packages/admin/build/ensure-built.ts).
    preCompressed: true,
    index: false,
    list: false,
    dotfiles: 'deny',
    decorateReply: false,
    setHeaders: (reply) => reply.header('x-content-type-options', 'nosniff'),
  });

  async function sendPage(reply: FastifyReply): Promise<FastifyReply> {
    let page: Buffer;
    try {
      // Read per load, not once: a rebuild while the server runs swaps in new asset names.
      page = await readFile(path.join(deps.dir, 'index.html'));
    } catch {
      throw new ApiError('unavailable', 'the dashboard is not built: run `npm run build -w packages/admin`');
    }
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', ADMIN_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'same-origin')
      .send(page);
  }

  // Any path of the single-page app (/admin/collections/posts?sort=title) is the same page: its
  // router reads the URL. Missing assets are not: they 404 above rather than turning into HTML.
  app.get('/admin', async (_request, reply) => sendPage(reply));
  app.get('/admin/*', async (_request, reply) => sendPage(reply));
}
