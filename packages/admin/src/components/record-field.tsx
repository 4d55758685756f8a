// One field of the record editor: its label, the control its type calls for (contract §4), the
// constraints as a hint, and the server's (or the browser's) error for it, tied to the control
// with aria-describedby. Controls that hold several inputs (multi-select, relation, file) are a
// fieldset whose legend names the field.

import { useId, type ReactNode } from 'react';
import type { FieldDef } from '@galley/sdk';
import type { DraftValue, FileDraft } from './record-draft.ts';
import { RelationPicker } from './relation-picker.tsx';
import { FileField } from './file-field.tsx';

function hintOf(field: FieldDef): string {
  const parts: string[] = [field.type === 'date' ? 'date, UTC' : field.multiple ? `${field.type}, several` : field.type];
  if (field.integer) parts.push('whole number');
  const unit = field.type === 'text' ? ' characters' : '';
  if (field.min !== undefined && field.max !== undefined) parts.push(`${field.min}–${field.max}${unit}`);
  else if (field.min !== undefined) parts.push(`at least ${field.min}${unit}`);
  else if (field.max !== undefined) parts.push(`at most ${field.max}${unit}`);
  if (field.pattern) parts.push(`matches ${field.pattern}`);
  if (field.type === 'relation') parts.push(`to ${field.collection}`);
  if (field.protected) parts.push('protected');
  return parts.join(' · ');
}

/** Long text gets a text area; short (bounded) text an input. */
const isLongText = (field: FieldDef) => field.type === 'text' && (field.max === undefined || field.max > 200);

export interface RecordFieldProps {
  collection: string;
  recordId: string | null;
  field: FieldDef;
  value: DraftValue;
  onChange: (update: (current: DraftValue) => DraftValue) => void;
  error: string | undefined;
  fileToken: string | undefined;
}

export function RecordField({ collection, recordId, field, value, onChange, error, fileToken }: RecordFieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = error ? `${errorId} ${hintId}` : hintId;
  const invalid = error !== undefined;
  const set = (next: DraftValue) => onChange(() => next);
  // One span, so a label laid out as a column keeps the marker beside the name.
  const title = (
    <span>
      {field.name}
      {field.required && <span aria-hidden="true"> *</span>}
      {field.required && <span className="visually-hidden"> (required)</span>}
    </span>
  );
  const notes = (
    <>
      <span id={hintId} className="hint">{hintOf(field)}</span>
      {error && <span id={errorId} className="field-error">{error}</span>}
    </>
  );
  const group = (control: ReactNode) => (
    <fieldset className="record-field" aria-describedby={describedBy} aria-invalid={invalid || undefined}>
      <legend>{title}</legend>
      {control}
      {notes}
    </fieldset>
  );
  const single = (control: ReactNode) => (
    <div className="record-field">
      <label htmlFor={id}>{title}</label>
      {control}
      {notes}
    </div>
  );
  const common = { id, 'aria-invalid': invalid || undefined, 'aria-describedby': describedBy, required: field.required };
  const text = typeof value === 'string' ? value : '';

  switch (field.type) {
    case 'boolean':
      return (
        <div className="record-field">
          <label className="inline" htmlFor={id}>
            <input {...common} required={false} type="checkbox" checked={value === true} onChange={(e) => set(e.target.checked)} />
            {title}
          </label>
          {notes}
        </div>
      );
    case 'number':
      return single(<input {...common} type="number" step={field.integer ? 1 : 'any'} min={field.min} max={field.max} value={text} onChange={(e) => set(e.target.value)} />);
    case 'date':
      return single(<input {...common} type="datetime-local" step={1} value={text} onChange={(e) => set(e.target.value)} />);
    case 'email':
      return single(<input {...common} type="email" value={text} onChange={(e) => set(e.target.value)} autoComplete="off" />);
    case 'url':
      return single(<input {...common} type="url" value={text} onChange={(e) => set(e.target.value)} />);
    case 'json':
      return single(<textarea {...common} rows={6} value={text} onChange={(e) => set(e.target.value)} spellCheck={false} placeholder='{"key": "value"}' />);
    case 'select':
      if (field.multiple) {
        const chosen = value as string[];
        return group(
          <div className="row">
            {(field.values ?? []).map((v) => (
              <label key={v} className="inline">
                <input type="checkbox" checked={chosen.includes(v)} onChange={(e) => set(e.target.checked ? (field.values ?? []).filter((x) => x === v || chosen.includes(x)) : chosen.filter((x) => x !== v))} />
                {v}
              </label>
            ))}
          </div>,
        );
      }
      return single(
        <select {...common} value={text} onChange={(e) => set(e.target.value)}>
          <option value="">{field.required ? 'Choose…' : '(none)'}</option>
          {(field.values ?? []).map((v) => <option key={v} value={v}>{v}</option>)}
          {/* A value the definition no longer lists still shows, so saving does not silently drop it. */}
          {text && !(field.values ?? []).includes(text) && <option value={text}>{text}</option>}
        </select>,
      );
    case 'relation':
      return group(<RelationPicker field={field} value={value as string[]} onChange={set} invalid={invalid} describedBy={describedBy} />);
    case 'file':
      return group(
        <FileField
          collection={collection}
          recordId={recordId}
          field={field}
          value={value as FileDraft}
          onChange={(update) => onChange((current) => update(current as FileDraft))}
          fileToken={fileToken}
          invalid={invalid}
          describedBy={describedBy}
        />,
      );
    default:
      return single(
        isLongText(field)
          ? <textarea {...common} rows={4} value={text} onChange={(e) => set(e.target.value)} />
          : <input {...common} type="text" maxLength={field.max} value={text} onChange={(e) => set(e.target.value)} />,
      );
  }
}
