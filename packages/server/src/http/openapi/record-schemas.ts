// JSON Schemas (OpenAPI 3.1 dialect) for the records of one collection, typed by field type:
// `<Name>Record` as the server sends it, `<Name>Input` for create, `<Name>Patch` and `<Name>List`.

import { isMultiValue, type CollectionDef, type FieldDef } from '../../core/collection-model.ts';
import { RECORD_ID_PATTERN } from '../../core/record-validation.ts';
import { inputExample, patchExample, recordExample, EXAMPLE_ID } from './record-examples.ts';
import { ref, type OpenApiObject } from './problems.ts';

export const USERS = 'users';

/**
 * Account columns of `users` that no schema may show, even if a definition somehow named one
 * (collection validation already reserves these names; this is the document's own guarantee).
 */
const ACCOUNT_SECRETS = new Set(['password', 'password_hash', 'passwordHash', 'hash', 'token']);

export const isUsers = (collection: CollectionDef): boolean => collection.name === USERS;

/** Accounts are created through /api/v1/auth, never as records. */
export const acceptsCreate = (collection: CollectionDef): boolean => !isUsers(collection);

/**
 * `posts` → `Posts`, `blog_posts` → `BlogPosts`, `a__b` → `A_B`. Injective over valid collection
 * names (which hold no capitals), so two collections never share a schema name or operation id.
 */
export function pascalName(collection: string): string {
  return collection.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()).replace(/^[a-z]/, (c) => c.toUpperCase());
}

export interface RecordSchemaNames {
  base: string;
  record: string;
  input: string;
  patch: string;
  list: string;
}

// Fixed component names never end in Record, Input, Patch or List, and none of those suffixes
// ends another: so these names cannot collide with each other or with a fixed one.
export function recordSchemaNames(collection: CollectionDef): RecordSchemaNames {
  const base = pascalName(collection.name);
  return { base, record: `${base}Record`, input: `${base}Input`, patch: `${base}Patch`, list: `${base}List` };
}

/** The fields a schema may show: every field, less account secrets on `users`. */
export function publicFields(collection: CollectionDef): FieldDef[] {
  return isUsers(collection) ? collection.fields.filter((f) => !ACCOUNT_SECRETS.has(f.name)) : collection.fields;
}

type Side = 'record' | 'input';

function valueSchema(field: FieldDef, side: Side): OpenApiObject {
  switch (field.type) {
    case 'text': {
      // The server refuses an empty string for a required field, so it is at least one character.
      const min = field.required ? Math.max(1, field.min ?? 0) : field.min;
      return {
        type: 'string',
        ...(min !== undefined && min > 0 ? { minLength: min } : {}),
        ...(field.max !== undefined ? { maxLength: field.max } : {}),
        ...(field.pattern !== undefined ? { pattern: field.pattern } : {}),
      };
    }
    case 'email':
      return { type: 'string', format: 'email', maxLength: 254 };
    case 'url':
      return { type: 'string', format: 'uri', maxLength: 2048, description: 'An http(s) URL.' };
    case 'number':
      return {
        type: field.integer ? 'integer' : 'number',
        ...(field.min !== undefined ? { minimum: field.min } : {}),
        ...(field.max !== undefined ? { maximum: field.max } : {}),
      };
    case 'boolean':
      return { type: 'boolean' };
    case 'date':
      return side === 'record'
        ? { type: 'string', format: 'date-time', description: 'ISO 8601, UTC.' }
        : { type: 'string', format: 'date-time', description: 'ISO 8601; a plain date (YYYY-MM-DD) is also accepted, as midnight UTC. Stored as UTC.' };
    case 'select':
      return { type: 'string', enum: [...(field.values ?? [])] };
    case 'json':
      return { description: 'Any JSON value.' };
    case 'relation':
      return { type: 'string', pattern: RECORD_ID_PATTERN.source, description: `The id of a \`${field.collection}\` record.` };
    case 'file':
      return side === 'record'
        ? { type: 'string', description: 'The stored file name; the bytes are at /api/v1/files/{collection}/{recordId}/{filename}.' }
        : {
            type: 'object',
            description: 'A finished resumable upload (tus, /api/v1/uploads) to attach.',
            required: ['upload'],
            properties: { upload: { type: 'string', description: 'The upload id.' } },
            additionalProperties: false,
          };
  }
}

/** Lets a schema also take `null` (an unset optional field). */
function orNull(schema: OpenApiObject): OpenApiObject {
  if (typeof schema.type !== 'string') return schema;
  const out: OpenApiObject = { ...schema, type: [schema.type, 'null'] };
  // `enum` restricts on its own: null must be listed for it to pass.
  if (Array.isArray(schema.enum)) out.enum = [...schema.enum, null];
  return out;
}

function fieldSchema(field: FieldDef, side: Side): OpenApiObject {
  const value = valueSchema(field, side);
  if (isMultiValue(field)) {
    const { description, ...item } = value;
    return {
      // Sent back as an array always ([] when empty); on input, null also clears it.
      type: side === 'input' && !field.required ? ['array', 'null'] : 'array',
      items: item,
      ...(side === 'record' ? { uniqueItems: true } : {}),
      ...(side === 'input' && field.required ? { minItems: 1 } : {}),
      maxItems: 1000,
      ...(description !== undefined ? { description: `${String(description)} One entry per value.` } : {}),
    };
  }
  return field.required ? value : orNull(value);
}

function expandSchema(fields: FieldDef[], known: Set<string>): OpenApiObject | undefined {
  const relations = fields.filter((f) => f.type === 'relation');
  if (relations.length === 0) return undefined;
  const properties: Record<string, OpenApiObject> = {};
  for (const field of relations) {
    const target = field.collection && known.has(field.collection)
      ? ref('schemas', `${pascalName(field.collection)}Record`)
      : { type: 'object' };
    properties[field.name] = isMultiValue(field) ? { type: 'array', items: target } : target;
  }
  return {
    type: 'object',
    description:
      'Only with `expand`: the related records, keyed by relation field (nested with `expand=a.b`). ' +
      'A related record the caller may not view is left out.',
    properties,
  };
}

/** `id`, `created`, `updated` (and a user's `email`) as every record carries them. */
function systemProperties(withEmail: boolean): Record<string, OpenApiObject> {
  return {
    id: { type: 'string', pattern: RECORD_ID_PATTERN.source, readOnly: true, examples: [EXAMPLE_ID] },
    created: { type: 'string', format: 'date-time', readOnly: true },
    updated: { type: 'string', format: 'date-time', readOnly: true },
    ...(withEmail
      ? { email: { type: 'string', format: 'email', readOnly: true, description: 'Shown only to the user themself and to superusers.' } }
      : {}),
  };
}

export function recordSchemas(collection: CollectionDef, known: Set<string>): Record<string, OpenApiObject> {
  const names = recordSchemaNames(collection);
  const fields = publicFields(collection);
  const users = isUsers(collection);
  const expand = expandSchema(fields, known);
  const recordProps: Record<string, OpenApiObject> = { ...systemProperties(users) };
  const inputProps: Record<string, OpenApiObject> = {};
  for (const field of fields) {
    recordProps[field.name] = fieldSchema(field, 'record');
    inputProps[field.name] = fieldSchema(field, 'input');
  }
  if (expand) recordProps.expand = expand;
  const example = recordExample(fields, users);
  const required = fields.filter((f) => f.required).map((f) => f.name);

  const schemas: Record<string, OpenApiObject> = {
    [names.record]: {
      type: 'object',
      description:
        `A record of the \`${collection.name}\` collection. Every field is present (null or [] when unset) ` +
        'unless the `fields` parameter asked for fewer.',
      required: ['id', 'created', 'updated', ...fields.map((f) => f.name)],
      properties: recordProps,
      examples: [example],
    },
    [names.patch]: {
      type: 'object',
      description: `Changes to a \`${collection.name}\` record: only the fields given change; null clears an optional field.`,
      properties: inputProps,
      additionalProperties: false,
      examples: [patchExample(fields)],
    },
    [names.list]: {
      type: 'object',
      description: `A page of \`${collection.name}\` records.`,
      required: ['items', 'nextCursor'],
      properties: {
        items: { type: 'array', items: ref('schemas', names.record) },
        nextCursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last page.' },
        totalItems: { type: 'integer', minimum: 0, description: 'Only with `count=true`: how many records match the filter.' },
        facets: {
          type: 'object',
          description: 'Only with `facets=`: per field, the counts under the search and filter (each field without its own filter terms), most frequent first; number fields in buckets.',
          additionalProperties: { type: 'array', items: ref('schemas', 'FacetCount') },
        },
      },
      examples: [{ items: [example], nextCursor: 'eyJrIjpbIjIwMjUtMDEtMTUiXX0', totalItems: 42 }],
    },
  };
  if (acceptsCreate(collection)) {
    schemas[names.input] = {
      type: 'object',
      description: `A new \`${collection.name}\` record. Unknown fields are refused; optional fields left out are null (or []).`,
      ...(required.length ? { required } : {}),
      properties: {
        id: { type: 'string', pattern: RECORD_ID_PATTERN.source, description: 'Optional: choose the id instead of letting the server make one.' },
        ...inputProps,
      },
      additionalProperties: false,
      examples: [inputExample(fields)],
    };
  }
  return schemas;
}

/** The signed-in user of /auth (contract §3): the users record with its account fields, never a password hash. */
export function userSchema(users: CollectionDef | undefined): OpenApiObject {
  const fields = users ? publicFields(users) : [];
  const properties: Record<string, OpenApiObject> = {
    ...systemProperties(true),
    verified: { type: 'boolean', readOnly: true, description: 'Whether the email address has been confirmed.' },
    roles: { type: 'array', items: { type: 'string' }, readOnly: true, description: '`admin` makes a superuser.' },
  };
  for (const field of fields) properties[field.name] = fieldSchema(field, 'record');
  return {
    type: 'object',
    description: 'An account. `email` is shown only to its owner and superusers.',
    required: ['id', 'created', 'updated', 'verified', 'roles'],
    properties,
    examples: [{ ...recordExample(fields, true), verified: true, roles: [] }],
  };
}
