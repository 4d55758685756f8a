// multipart/form-data record bodies: file parts are staged to disk as they stream in (size and
// type enforced on the way, see core/file-staging.ts); text parts are field values, or the whole
// JSON body in a part named `@jsonPayload`. Any failure removes what was staged so far.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import secureJson from 'secure-json-parse';
import { ApiError } from '../core/api-error.ts';
import { isMultiValue, type CollectionDef, type FieldDef } from '../core/collection-model.ts';
import { removeStaged, stageFile, type StagedFile } from '../core/file-staging.ts';

/** A part holding the JSON body (for values that are not strings: numbers, booleans, JSON). */
export const JSON_PAYLOAD_PART = '@jsonPayload';
/** Files in one request, over every field. */
export const MAX_FILES_PER_REQUEST = 20;

export interface MultipartBody {
  body: Record<string, unknown>;
  staged: StagedFile[];
}

/** Registers the parser in the calling plugin only: elsewhere multipart stays a 415. */
export async function registerMultipart(app: FastifyInstance, bodyLimit: number): Promise<void> {
  await app.register(multipart, {
    limits: { fieldNameSize: 200, fieldSize: bodyLimit, fields: 1000, files: MAX_FILES_PER_REQUEST, parts: 1000 + MAX_FILES_PER_REQUEST, headerPairs: 100 },
  });
}

const LIMIT_ERRORS: Record<string, string> = {
  FST_FILES_LIMIT: `at most ${MAX_FILES_PER_REQUEST} files in one request`,
  FST_PARTS_LIMIT: 'too many parts in one request',
  FST_FIELDS_LIMIT: 'too many fields in one request',
};

/** The client's multipart mistakes as problems; anything else passes through as it is. */
function translate(err: unknown): unknown {
  if (err instanceof ApiError) return err;
  const code = (err as { code?: string })?.code;
  if (code && LIMIT_ERRORS[code]) return new ApiError('payload_too_large', LIMIT_ERRORS[code]!);
  if (code === 'FST_PROTO_VIOLATION') return new ApiError('bad_request', 'a part is named after a forbidden key (__proto__, constructor…)');
  const message = err instanceof Error ? err.message : '';
  if (code === 'FST_MP_PREMATURE_CLOSE' || /unexpected end of (form|multipart)|part terminated early|malformed|boundary/i.test(message)) {
    return new ApiError('bad_request', 'the multipart body is malformed or ends early');
  }
  return err;
}

/** A text part's value as the field's type expects it (multipart carries only strings). */
function textValue(field: FieldDef, text: string): unknown {
  if (field.type === 'number' || field.type === 'boolean' || field.type === 'json') {
    try {
      return secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
    } catch {
      return text; // validation reports it against the field's type
    }
  }
  if (field.type === 'file' && !field.multiple && text === '') return null;
  return text;
}

export async function readMultipart(request: FastifyRequest, collection: CollectionDef, stagingDir: string): Promise<MultipartBody> {
  const body: Record<string, unknown> = {};
  const staged: StagedFile[] = [];
  const fields = new Map(collection.fields.map((f) => [f.name, f]));
  const unknown = (name: string) =>
    ApiError.validation([{ field: name.slice(0, 100), code: 'unknown_field', message: `is not a field of ${collection.name}` }]);
  try {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        const text = typeof part.value === 'string' ? part.value : String(part.value);
        if (part.fieldname === JSON_PAYLOAD_PART) {
          let parsed: unknown;
          try {
            parsed = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
          } catch {
            throw new ApiError('bad_request', `${JSON_PAYLOAD_PART} is not valid JSON`);
          }
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ApiError('bad_request', `${JSON_PAYLOAD_PART} must be a JSON object`);
          Object.assign(body, parsed);
          continue;
        }
        const field = fields.get(part.fieldname);
        const value = field ? textValue(field, text) : text;
        if (field && isMultiValue(field)) body[part.fieldname] = [...((body[part.fieldname] as unknown[] | undefined) ?? []), value];
        else body[part.fieldname] = value;
        continue;
      }
      const field = fields.get(part.fieldname);
      // Refused at once, before the file's bytes are read: the request ends here.
      if (!field) throw unknown(part.fieldname);
      if (field.type !== 'file') throw ApiError.validation([{ field: field.name, code: 'invalid_type', message: 'is not a file field' }]);
      if (!field.multiple && staged.some((s) => s.field === field.name)) {
        throw ApiError.validation([{ field: field.name, code: 'too_many', message: 'takes one file' }]);
      }
      staged.push(await stageFile(part.file, stagingDir, field, part.filename));
    }
    return { body, staged };
  } catch (err) {
    await removeStaged(staged);
    const problem = translate(err);
    // The rest of the body is never read: the connection cannot carry another request.
    if (problem instanceof ApiError) problem.headers.connection = 'close';
    throw problem;
  }
}
