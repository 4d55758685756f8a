// One field of the collection editor: name, type, required, and the options of its type (contract
// §4). The draft keeps every option as the text typed, so a half-typed number never loses input;
// toFieldDef turns it into the definition the server validates.

import type { CollectionDef, FieldDef } from '@galley/sdk';

export const FIELD_TYPES = ['text', 'number', 'boolean', 'date', 'email', 'url', 'select', 'json', 'relation', 'file'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export interface DraftField {
  /** React's key: stable while the name is edited. */
  key: string;
  /** The server's field id: kept so a renamed field keeps its values. */
  id?: string;
  name: string;
  type: FieldType;
  required: boolean;
  min: string;
  max: string;
  pattern: string;
  integer: boolean;
  values: string;
  multiple: boolean;
  collection: string;
  maxSize: string;
  mimeTypes: string;
  thumbs: string;
  protected: boolean;
}

let nextKey = 0;
const newKey = () => `f${nextKey++}`;
const list = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);
const num = (text: string) => (text.trim() === '' ? undefined : Number(text));

export function emptyField(): DraftField {
  return { key: newKey(), name: '', type: 'text', required: false, min: '', max: '', pattern: '', integer: false, values: '', multiple: false, collection: '', maxSize: '', mimeTypes: '', thumbs: '', protected: false };
}

export function draftOf(field: FieldDef): DraftField {
  const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  return {
    ...emptyField(),
    id: field.id,
    name: field.name,
    type: field.type as FieldType,
    required: field.required === true,
    min: text(field.min),
    max: text(field.max),
    pattern: text(field.pattern),
    integer: field.integer === true,
    values: (field.values ?? []).join(', '),
    multiple: field.multiple === true,
    collection: text(field.collection),
    maxSize: text(field.maxSize),
    mimeTypes: (field.mimeTypes ?? []).join(', '),
    thumbs: (field.thumbs ?? []).join(', '),
    protected: field.protected === true,
  };
}

/** Only the options of the field's type are sent; a number that does not parse goes as typed, for the server to name. */
export function toFieldDef(d: DraftField): FieldDef {
  const def: Record<string, unknown> = { name: d.name.trim(), type: d.type };
  if (d.id) def.id = d.id;
  if (d.required) def.required = true;
  const numeric = (key: string, text: string) => {
    const n = num(text);
    if (n !== undefined) def[key] = Number.isNaN(n) ? text : n;
  };
  switch (d.type) {
    case 'text':
      numeric('min', d.min);
      numeric('max', d.max);
      if (d.pattern) def.pattern = d.pattern;
      break;
    case 'number':
      numeric('min', d.min);
      numeric('max', d.max);
      if (d.integer) def.integer = true;
      break;
    case 'select':
      def.values = list(d.values);
      if (d.multiple) def.multiple = true;
      break;
    case 'relation':
      def.collection = d.collection;
      if (d.multiple) def.multiple = true;
      break;
    case 'file':
      if (d.multiple) def.multiple = true;
      numeric('maxSize', d.maxSize);
      if (d.mimeTypes.trim()) def.mimeTypes = list(d.mimeTypes);
      if (d.thumbs.trim()) def.thumbs = list(d.thumbs);
      if (d.protected) def.protected = true;
      break;
  }
  return def as unknown as FieldDef;
}

export function FieldEditor(props: {
  field: DraftField;
  index: number;
  count: number;
  collections: CollectionDef[];
  /** The server's message for `fields[index].<property>`. */
  errorFor(property: string): string | undefined;
  onChange(field: DraftField): void;
  onMove(delta: -1 | 1): void;
  onRemove(): void;
}) {
  const { field: f, index, errorFor } = props;
  const set = (patch: Partial<DraftField>) => props.onChange({ ...f, ...patch });
  const title = f.name || `field ${index + 1}`;
  const input = (label: string, key: keyof DraftField & ('min' | 'max' | 'pattern' | 'values' | 'maxSize' | 'mimeTypes' | 'thumbs'), hint?: string, inputMode?: 'numeric' | 'decimal') => (
    <label>
      {label}
      <input value={f[key]} inputMode={inputMode} onChange={(e) => set({ [key]: e.target.value })} aria-invalid={errorFor(key) ? true : undefined} />
      {errorFor(key) ? <span className="field-error">{errorFor(key)}</span> : hint && <span className="hint">{hint}</span>}
    </label>
  );
  const check = (label: string, key: 'required' | 'integer' | 'multiple' | 'protected') => (
    <label className="inline">
      <input type="checkbox" checked={f[key]} onChange={(e) => set({ [key]: e.target.checked })} />
      {label}
    </label>
  );
  return (
    <fieldset className="field-card">
      <legend>{title}</legend>
      <div className="field-grid">
        <label>
          Name
          <input value={f.name} onChange={(e) => set({ name: e.target.value })} aria-invalid={errorFor('name') ? true : undefined} />
          {errorFor('name') && <span className="field-error">{errorFor('name')}</span>}
        </label>
        <label>
          Type
          <select value={f.type} onChange={(e) => set({ type: e.target.value as FieldType })} aria-invalid={errorFor('type') ? true : undefined}>
            {FIELD_TYPES.map((t) => <option key={t} value={t}>{t}</option>)}
          </select>
          {errorFor('type') && <span className="field-error">{errorFor('type')}</span>}
        </label>
        {check('Required', 'required')}
        {f.type === 'text' && (
          <>
            {input('Min length', 'min', undefined, 'numeric')}
            {input('Max length', 'max', undefined, 'numeric')}
            {input('Pattern', 'pattern', 'A regular expression the whole value matches')}
          </>
        )}
        {f.type === 'number' && (
          <>
            {input('Min', 'min', undefined, 'decimal')}
            {input('Max', 'max', undefined, 'decimal')}
            {check('Integer', 'integer')}
          </>
        )}
        {f.type === 'select' && (
          <>
            {input('Values', 'values', 'Comma-separated')}
            {check('Several values', 'multiple')}
          </>
        )}
        {f.type === 'relation' && (
          <>
            <label>
              Related collection
              <select value={f.collection} onChange={(e) => set({ collection: e.target.value })} aria-invalid={errorFor('collection') ? true : undefined}>
                <option value="">Choose…</option>
                {props.collections.map((c) => <option key={c.name} value={c.name}>{c.name}</option>)}
              </select>
              {errorFor('collection') && <span className="field-error">{errorFor('collection')}</span>}
            </label>
            {check('Several records', 'multiple')}
          </>
        )}
        {f.type === 'file' && (
          <>
            {check('Several files', 'multiple')}
            {input('Max size (bytes)', 'maxSize', undefined, 'numeric')}
            {input('Allowed types', 'mimeTypes', 'e.g. image/png, image/jpeg')}
            {input('Thumbnails', 'thumbs', 'e.g. 100x100, 0x300')}
            {check('Protected (downloads need a file token)', 'protected')}
          </>
        )}
      </div>
      <div className="row">
        <button type="button" onClick={() => props.onMove(-1)} disabled={index === 0} aria-label={`Move ${title} up`}>↑</button>
        <button type="button" onClick={() => props.onMove(1)} disabled={index === props.count - 1} aria-label={`Move ${title} down`}>↓</button>
        <button type="button" className="danger" onClick={props.onRemove}>Remove {title}</button>
      </div>
    </fieldset>
  );
}
