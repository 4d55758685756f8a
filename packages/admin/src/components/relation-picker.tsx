// The control of a relation field: the chosen records as removable chips, and a combobox that
// searches the target collection as you type (ARIA 1.2 combobox with a listbox: arrows move,
// Enter picks, Escape closes). Records are labelled by the target's first text-like field; the
// built-in `users` are searched by email through the account directory, since the dashboard is a
// superuser's and an email is how people are told apart.

import { useId, useState, type KeyboardEvent } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { BaseRecord, CollectionDef, FieldDef } from '@galley/sdk';
import { galley } from '../client.ts';
import { describeError } from '../problems.ts';

const SUGGESTIONS = 8;
const LABEL_TYPES = new Set(['text', 'email', 'url']);

interface Option {
  id: string;
  label: string;
}

function labelField(def: CollectionDef | undefined): string | undefined {
  return def?.fields.find((f) => LABEL_TYPES.has(f.type))?.name;
}

function labelOf(record: BaseRecord, field: string | undefined): string {
  const value = field ? record[field] : undefined;
  return typeof value === 'string' && value ? value : record.id;
}

/** Records of `target` matching `text` (by label or exact id), as picker options. */
async function findOptions(target: string, def: CollectionDef | undefined, text: string, signal: AbortSignal): Promise<Option[]> {
  if (target === 'users') {
    const page = await galley.users.list({ search: text || undefined, limit: SUGGESTIONS }, { signal });
    return page.items.map((u) => ({ id: u.id, label: u.email }));
  }
  const field = labelField(def);
  const filter = text === '' ? undefined : field ? `${field} ~ ${galley.filter`${text}`} || id = ${galley.filter`${text}`}` : galley.filter`id = ${text}`;
  const page = await galley.collection(target).list({ filter, limit: SUGGESTIONS, signal });
  return page.items.map((r) => ({ id: r.id, label: labelOf(r, field) }));
}

export function RelationPicker({ field, value, onChange, invalid, describedBy }: {
  field: FieldDef;
  value: string[];
  onChange: (ids: string[]) => void;
  invalid: boolean;
  describedBy?: string;
}) {
  const target = field.collection!;
  const multiple = field.multiple === true;
  const targetDef = useQuery({ queryKey: ['collection', target], queryFn: ({ signal }) => galley.collections.get(target, { signal }), enabled: target !== 'users' });
  const [text, setText] = useState('');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const [labels, setLabels] = useState<Record<string, string>>({});
  const listId = useId();
  const inputId = useId();
  const options = useQuery({
    queryKey: ['relation-options', target, text],
    queryFn: ({ signal }) => findOptions(target, targetDef.data, text, signal),
    enabled: open && (target === 'users' || targetDef.isSuccess),
    placeholderData: keepPreviousData,
  });
  const choices = (options.data ?? []).filter((o) => !value.includes(o.id));
  // The chosen records' labels, looked up once for the ids the record already held.
  const shown = value.slice(0, 100);
  const known = useQuery({
    queryKey: ['relation-labels', target, shown],
    queryFn: async ({ signal }) => {
      const field = labelField(targetDef.data);
      const page = await galley.collection(target).list({ filter: shown.map((id) => galley.filter`id = ${id}`).join(' || '), limit: shown.length, signal });
      return Object.fromEntries(page.items.map((r) => [r.id, labelOf(r, field)]));
    },
    enabled: shown.length > 0 && target !== 'users' && targetDef.isSuccess,
    placeholderData: keepPreviousData,
  });
  const labelFor = (id: string) => labels[id] ?? known.data?.[id] ?? id;

  function pick(option: Option) {
    setLabels((l) => ({ ...l, [option.id]: option.label }));
    onChange(multiple ? [...value, option.id] : [option.id]);
    setText('');
    setActive(0);
    if (!multiple) setOpen(false);
  }

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      setOpen(true);
      setActive((i) => Math.min(i + 1, Math.max(choices.length - 1, 0)));
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      setActive((i) => Math.max(i - 1, 0));
    } else if (event.key === 'Enter' && open && choices[active]) {
      // Enter picks instead of submitting the record form.
      event.preventDefault();
      pick(choices[active]);
    } else if (event.key === 'Escape' && open) {
      event.preventDefault();
      setOpen(false);
    }
  }

  return (
    <div className="relation-picker">
      {value.length > 0 && (
        <ul className="chips" aria-label={`Chosen ${field.name}`}>
          {value.map((id) => (
            <li key={id}>
              <span>{labelFor(id)}</span>
              <button type="button" className="link" onClick={() => onChange(value.filter((v) => v !== id))}>
                Remove<span className="visually-hidden"> {labelFor(id)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <label htmlFor={inputId} className="visually-hidden">Find a {target} record for {field.name}</label>
      <input
        id={inputId}
        role="combobox"
        aria-expanded={open}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={open && choices[active] ? `${listId}-${choices[active].id}` : undefined}
        aria-invalid={invalid || undefined}
        aria-describedby={describedBy}
        placeholder={`Search ${target}…`}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setOpen(true);
          setActive(0);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setOpen(false)}
        onKeyDown={onKeyDown}
        autoComplete="off"
        spellCheck={false}
      />
      <ul id={listId} role="listbox" className="options" aria-label={`${target} records`} hidden={!open}>
        {options.isError && <li role="presentation" className="field-error">{describeError(options.error)}</li>}
        {open && options.isSuccess && choices.length === 0 && <li role="presentation" className="hint">No match.</li>}
        {choices.map((option, i) => (
          <li
            key={option.id}
            id={`${listId}-${option.id}`}
            role="option"
            aria-selected={i === active}
            // mousedown, not click: the input's blur would close the list before the click lands.
            onMouseDown={(e) => {
              e.preventDefault();
              pick(option);
            }}
          >
            {option.label}
            {option.label !== option.id && <span className="hint"> {option.id}</span>}
          </li>
        ))}
      </ul>
    </div>
  );
}
