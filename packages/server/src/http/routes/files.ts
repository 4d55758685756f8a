// /api/v1/files: serving stored files (contract §7) and issuing the short-lived tokens that
// protected fields need. A file is served only to a caller who may view its record; its type is the
// sniffed one, never executed by a browser (nosniff, a sandboxing CSP, attachment for active types).

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../core/api-error.ts';
import { apiKeyCaller, isApiKeyCaller } from '../../core/api-keys.ts';
import type { AuthService } from '../../core/auth.ts';
import { callerFor, type Caller } from '../../core/caller.ts';
import type { CollectionService } from '../../core/collections.ts';
import { STORED_NAME_PATTERN } from '../../core/file-names.ts';
import { servesInline } from '../../core/file-sniff.ts';
import type { FileTokens } from '../../core/file-tokens.ts';
import type { FileRow, FileService } from '../../core/files.ts';
import { RECORD_ID_PATTERN } from '../../core/record-validation.ts';
import { etagMatches, type RecordService } from '../../core/records.ts';
import { THUMB_SIZE_PATTERN, thumbnailKey, thumbnailType } from '../../core/thumbnails.ts';
import { StorageNotFoundError, type ByteRange, type Storage } from '../../storage/storage.ts';

export interface FileRouteDeps {
  files: FileService;
  records: RecordService;
  collections: CollectionService;
  auth: AuthService;
  tokens: FileTokens;
  storage: Storage;
}

type Params = { collection: string; recordId: string; filename: string };
const QUERY = new Set(['thumb', 'token']);
/** Presigned S3 URLs live this long: enough to start the download, never a lasting link. */
const PRESIGN_SECONDS = 300;

function queryOf(query: unknown): { thumb?: string; token?: string } {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(query as Record<string, unknown>)) {
    if (!QUERY.has(key)) throw new ApiError('bad_request', `unknown query parameter "${key.slice(0, 100)}"`);
    if (typeof value !== 'string') throw new ApiError('bad_request', `query parameter "${key}" is given more than once`);
    out[key] = value;
  }
  if (out.thumb !== undefined && !THUMB_SIZE_PATTERN.test(out.thumb)) throw new ApiError('bad_request', 'thumb must be a size such as 100x100, 0x300, 300x0 or 100x100f');
  return out;
}

/** `filename*` carries the original name in UTF-8; the plain `filename` is an ASCII fallback. */
function disposition(kind: 'inline' | 'attachment', originalName: string): string {
  const ascii = originalName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(originalName)}`;
}

/** One `bytes=a-b` / `bytes=a-` / `bytes=-n` range; undefined for anything else (served whole). */
function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  const m = header === undefined ? null : /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return undefined; // invalid: ignored, per RFC 9110
  }
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

export async function fileRoutes(app: FastifyInstance, deps: FileRouteDeps): Promise<void> {
  const { files, records, collections, auth, tokens, storage } = deps;

  app.post('/api/v1/files/token', async (request, reply) => {
    const user = request.caller.user;
    const issued = tokens.issue(user === null ? null : isApiKeyCaller(user) ? { apiKeyId: user.id } : { userId: user.id });
    return reply.header('cache-control', 'no-store').send(issued);
  });

  /** Who asks: the token's user when `?token=` is given (it is how <img> tags authenticate), else the request's caller. */
  async function callerOf(request: FastifyRequest, token: string | undefined): Promise<Caller> {
    if (token === undefined) return request.caller;
    const invalid = () => new ApiError('unauthenticated', 'the file token is invalid or expired; get a new one from POST /api/v1/files/token');
    const claims = tokens.verify(token);
    if (!claims) throw invalid();
    const { subject } = claims;
    if (subject === null) return callerFor(null);
    // Looked up again: a deleted user's or a revoked key's tokens die with them.
    if ('apiKeyId' in subject) {
      const key = await auth.apiKeys.byId(subject.apiKeyId);
      if (!key) throw invalid();
      return callerFor(apiKeyCaller(key));
    }
    const user = await auth.userById(subject.userId);
    if (!user) throw invalid();
    return callerFor(user);
  }

  app.get<{ Params: Params }>('/api/v1/files/:collection/:recordId/:filename', async (request, reply) => {
    const { collection: name, recordId, filename } = request.params;
    const query = queryOf(request.query);
    if (!RECORD_ID_PATTERN.test(recordId) || !STORED_NAME_PATTERN.test(filename)) throw ApiError.notFound('The file');
    const collection = collections.get(name);
    if (!collection) throw ApiError.notFound('The file');
    const caller = await callerOf(request, query.token);
    const file = await files.find(collection.name, recordId, filename);
    const field = file && collection.fields.find((f) => f.name === file.field && f.type === 'file');
    if (!file || !field) throw ApiError.notFound('The file');
    if (field.protected && query.token === undefined) {
      throw new ApiError('unauthenticated', 'this file is protected: add ?token= from POST /api/v1/files/token');
    }
    // The view rule decides, as for the record itself (404 when the caller may not see it).
    await records.get(caller, collection.name, recordId);
    const isPublic = !field.protected && collection.rules.view?.trim() === '';
    return serve(request, reply, file, field.thumbs ?? [], query.thumb, isPublic);
  });

  async function serve(request: FastifyRequest, reply: FastifyReply, file: FileRow, declared: string[], thumb: string | undefined, isPublic: boolean): Promise<FastifyReply> {
    // A declared thumbnail once it is made; until then (and for sizes never declared) the original.
    const useThumb = thumb !== undefined && declared.includes(thumb) && file.thumbs[thumb] === 'ready';
    const key = useThumb ? thumbnailKey(file.key, thumb) : file.key;
    const type = useThumb ? thumbnailType(file.type) : file.type;
    const size = useThumb ? (await storage.stat(key))?.size : file.size;
    if (size === undefined) throw ApiError.notFound('The file');
    const etag = `"${file.sha256.slice(0, 32)}${useThumb ? `-${thumb}` : ''}"`;
    const contentType = type.startsWith('text/') ? `${type}; charset=utf-8` : type;
    const contentDisposition = disposition(servesInline(type) ? 'inline' : 'attachment', file.originalName);

    reply.header('x-content-type-options', 'nosniff');
    // Even opened directly, a served file runs nothing and reaches nothing.
    reply.header('content-security-policy', "default-src 'none'; sandbox");
    reply.header('cache-control', isPublic ? 'public, max-age=31536000, immutable' : 'private, no-cache');
    reply.header('etag', etag);
    reply.header('accept-ranges', 'bytes');
    const inm = request.headers['if-none-match'];
    if (inm !== undefined && etagMatches(inm, etag)) return reply.code(304).send();

    if (storage.presignGet) {
      const url = await storage.presignGet(key, { expiresIn: PRESIGN_SECONDS, contentType, contentDisposition });
      return reply.code(302).header('cache-control', 'private, no-store').header('location', url).send();
    }

    const ifRange = request.headers['if-range'];
    const range = ifRange === undefined || ifRange === etag ? parseRange(request.headers.range, size) : undefined;
    if (range === 'unsatisfiable') {
      throw new ApiError('range_not_satisfiable', `the file has ${size} bytes; the range starts past its end`, undefined, { headers: { 'content-range': `bytes */${size}` } });
    }
    let body;
    try {
      body = await storage.get(key, range);
    } catch (err) {
      if (err instanceof StorageNotFoundError) {
        request.log.warn({ key }, 'a file row names an object that storage does not have');
        throw ApiError.notFound('The file');
      }
      throw err;
    }
    reply.type(contentType).header('content-disposition', contentDisposition);
    if (range) {
      return reply
        .code(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${size}`)
        .header('content-length', String(range.end - range.start + 1))
        .send(body);
    }
    return reply.header('content-length', String(size)).send(body);
  }
}
