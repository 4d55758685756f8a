// The file endpoints (contract §7) and the multipart request bodies of collections with file
// fields, for the OpenAPI document.

import { isMultiValue, type CollectionDef } from '../../core/collection-model.ts';
import { STORED_NAME_PATTERN } from '../../core/file-names.ts';
import { FILE_TOKEN_TTL_SECONDS } from '../../core/file-tokens.ts';
import { RECORD_ID_PATTERN } from '../../core/record-validation.ts';
import { THUMB_SIZE_PATTERN } from '../../core/thumbnails.ts';
import { JSON_PAYLOAD_PART, MAX_FILES_PER_REQUEST } from '../multipart.ts';
import { errorResponses, ref, type OpenApiObject } from './problems.ts';

const BINARY = { type: 'string', format: 'binary' };

/** `multipart/form-data` for a create or update of a collection with file fields; undefined without any. */
export function multipartContent(collection: CollectionDef): OpenApiObject | undefined {
  if (!collection.fields.some((f) => f.type === 'file')) return undefined;
  const properties: Record<string, OpenApiObject> = {
    [JSON_PAYLOAD_PART]: { type: 'string', description: 'The JSON body (as in application/json), for values that are not strings.' },
  };
  const encoding: Record<string, OpenApiObject> = { [JSON_PAYLOAD_PART]: { contentType: 'application/json' } };
  for (const field of collection.fields) {
    if (field.type === 'file') {
      const limits = [`at most ${field.maxSize ?? 5 * 1024 * 1024} bytes`, field.mimeTypes ? `content of type ${field.mimeTypes.join(', ')}` : 'any type'].join('; ');
      properties[field.name] = isMultiValue(field)
        ? { type: 'array', items: BINARY, description: `Files that join this field's (${limits}).` }
        : { ...BINARY, description: `A file that replaces this field's (${limits}).` };
    } else {
      properties[field.name] = isMultiValue(field) ? { type: 'array', items: { type: 'string' } } : { type: 'string', description: 'The value as text (numbers, booleans and JSON are parsed).' };
    }
  }
  return {
    'multipart/form-data': {
      schema: { type: 'object', properties, description: `Files and values in one request (at most ${MAX_FILES_PER_REQUEST} files). The type of a file is decided by its content.` },
      encoding,
    },
  };
}

const TUS_RESUMABLE = { name: 'Tus-Resumable', in: 'header', required: true, schema: { type: 'string', enum: ['1.0.0'] } };
const TUS_NOTE = 'tus 1.0 (https://tus.io/protocols/resumable-upload): use a tus client. Signed-in callers only; an upload is visible to its owner alone.';

export function filePaths(): Record<string, OpenApiObject> {
  return {
    '/api/v1/uploads': {
      post: {
        operationId: 'createUpload',
        tags: ['Files'],
        summary: 'Start a resumable upload (tus creation)',
        description: `${TUS_NOTE} Attach the finished upload with \`{"field": {"upload": "<id>"}}\` in a record body; unattached uploads expire (24 h by default).`,
        security: [{ bearer: [] }, { cookie: [] }],
        parameters: [
          TUS_RESUMABLE,
          { name: 'Upload-Length', in: 'header', required: true, description: 'The size in bytes (deferred lengths are not supported).', schema: { type: 'integer', minimum: 0 } },
          { name: 'Upload-Metadata', in: 'header', required: false, description: '`filename <base64>` names the file.', schema: { type: 'string' } },
        ],
        responses: { 201: { description: 'Created; `Location` is the upload URL, whose last segment is its id.' }, ...errorResponses(401) },
      },
    },
    '/api/v1/uploads/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-f0-9]{32}$' } }],
      head: {
        operationId: 'getUploadOffset', tags: ['Files'], summary: 'How much of an upload has arrived', description: TUS_NOTE,
        security: [{ bearer: [] }, { cookie: [] }], parameters: [TUS_RESUMABLE],
        responses: { 200: { description: '`Upload-Offset` and `Upload-Length`.' }, ...errorResponses(401, 404) },
      },
      patch: {
        operationId: 'appendToUpload', tags: ['Files'], summary: 'Send the next bytes of an upload', description: TUS_NOTE,
        security: [{ bearer: [] }, { cookie: [] }],
        parameters: [TUS_RESUMABLE, { name: 'Upload-Offset', in: 'header', required: true, schema: { type: 'integer', minimum: 0 } }],
        requestBody: { required: true, content: { 'application/offset+octet-stream': { schema: BINARY } } },
        responses: { 204: { description: 'Stored; `Upload-Offset` is the new offset.' }, ...errorResponses(401, 404) },
      },
      delete: {
        operationId: 'terminateUpload', tags: ['Files'], summary: 'Abandon an upload (tus termination)', description: TUS_NOTE,
        security: [{ bearer: [] }, { cookie: [] }], parameters: [TUS_RESUMABLE],
        responses: { 204: { description: 'Removed.' }, ...errorResponses(401, 404) },
      },
    },
    '/api/v1/files/token': {
      post: {
        operationId: 'createFileToken',
        tags: ['Files'],
        summary: 'Get a short-lived token for protected files',
        description: `Valid for ${FILE_TOKEN_TTL_SECONDS} seconds, for the caller who asked; add it as \`?token=\` to file URLs.`,
        security: [{}, { bearer: [] }, { cookie: [] }],
        responses: {
          200: {
            description: 'The token.',
            content: {
              'application/json': {
                schema: { type: 'object', required: ['token', 'expires'], properties: { token: { type: 'string' }, expires: { type: 'string', format: 'date-time' } } },
              },
            },
          },
          ...errorResponses(401),
        },
      },
    },
    '/api/v1/files/{collection}/{recordId}/{filename}': {
      parameters: [
        { name: 'collection', in: 'path', required: true, schema: { type: 'string' } },
        { name: 'recordId', in: 'path', required: true, schema: { type: 'string', pattern: RECORD_ID_PATTERN.source } },
        { name: 'filename', in: 'path', required: true, description: 'The stored name, as the record carries it.', schema: { type: 'string', pattern: STORED_NAME_PATTERN.source } },
      ],
      get: {
        operationId: 'getFile',
        tags: ['Files'],
        summary: 'Download a file of a record',
        description:
          'Served only to a caller the view rule lets see the record, with the sniffed Content-Type, `nosniff`, and `attachment` for anything a browser could run. ' +
          'Public files are cached `immutable`. Protected fields need `?token=`. With S3 presigning on, the answer is a redirect.',
        security: [{}, { bearer: [] }, { cookie: [] }],
        parameters: [
          { name: 'thumb', in: 'query', required: false, description: 'A thumbnail size the field declares (`100x100`, `0x300`, `300x0`, `100x100f`); the original until it is made.', schema: { type: 'string', pattern: THUMB_SIZE_PATTERN.source } },
          { name: 'token', in: 'query', required: false, description: 'A file token from POST /api/v1/files/token.', schema: { type: 'string' } },
          { name: 'Range', in: 'header', required: false, description: 'One byte range, e.g. `bytes=0-1023`.', schema: { type: 'string' } },
          ref('parameters', 'IfNoneMatch'),
        ],
        responses: {
          200: { description: 'The file.', headers: { ETag: ref('headers', 'ETag') }, content: { '*/*': { schema: BINARY } } },
          206: { description: 'The requested range.', content: { '*/*': { schema: BINARY } } },
          302: { description: 'A redirect to a presigned storage URL (S3 with presign=true).' },
          304: { description: 'Not modified: the ETag in If-None-Match is current.' },
          ...errorResponses(400, 401, 404, 416),
        },
      },
    },
  };
}
