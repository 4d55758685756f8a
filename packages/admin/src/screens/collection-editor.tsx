// The collection editor (routes collection-new and collection-schema): fields of every type with
// their options, indexes, search fields in weight order, and the five rules with the expression
// box that checks against the server as it is typed. Saving creates or updates through the SDK;
// the server's errors land on the control they name (`fields[2].max`, `rules.list` …).

import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { GalleyError, type CollectionDef, type FieldDef } from '@galley/sdk';
import { galley } from '../client.ts';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { ExpressionInput } from '../components/expression-input.tsx';
import { draftOf, emptyField, FieldEditor, toFieldDef, type DraftField } from '../components/field-editor.tsx';
import { describeError, fieldErrorFor } from '../problems.ts';
import { Link, navigate } from '../router.tsx';
import { useCollections } from './collections.tsx';

const RULES = ['list', 'view', 'create', 'update', 'delete'] as const;
type RuleName = (typeof RULES)[number];
type RuleMode = 'superusers' | 'anyone' | 'expression';
interface DraftRule {
  mode: RuleMode;
  expression: string;
}
interface DraftIndex {
  key: string;
  fields: string;
  unique: boolean;
}
/** Search weights are positional (docs/search.md): the first field counts most. */
const WEIGHT_CLASSES = ['A', 'B', 'C', 'D'];
const SEARCHABLE = new Set(['text', 'email', 'url', 'select']);

let indexKey = 0;

function draftRule(value: string | null | undefined): DraftRule {
  if (value === null || value === undefined) return { mode: 'superusers', expression: '' };
  if (value.trim() === '') return { mode: 'anyone', expression: '' };
  return { mode: 'expression', expression: value };
}

function ruleValue(rule: DraftRule): string | null {
  return rule.mode === 'superusers' ? null : rule.mode === 'anyone' ? '' : rule.expression;
}

export function CollectionEditorScreen({ name }: { name: string | null }) {
  const existing = useQuery({
    queryKey: ['collection', name],
    queryFn: ({ signal }) => galley.collections.get(name!, { signal }),
    enabled: name !== null,
  });
  if (name !== null && existing.isPending) return <p role="status">Loading…</p>;
  if (existing.isError) return <p role="alert" className="form-error">{describeError(existing.error)}</p>;
  return <Editor key={name ?? 'new'} original={existing.data ?? null} />;
}

function Editor({ original }: { original: CollectionDef | null }) {
  const client = useQueryClient();
  const collections = useCollections();
  const [name, setName] = useState(original?.name ?? '');
  const [fields, setFields] = useState<DraftField[]>(() => original?.fields.map(draftOf) ?? [emptyField()]);
  const [indexes, setIndexes] = useState<DraftIndex[]>(() => original?.indexes.map((i) => ({ key: `i${indexKey++}`, fields: i.fields.join(', '), unique: i.unique === true })) ?? []);
  const [search, setSearch] = useState<string[]>(original?.search ?? []);
  const [rules, setRules] = useState<Record<RuleName, DraftRule>>(() => Object.fromEntries(RULES.map((r) => [r, draftRule(original ? original.rules[r] : null)])) as Record<RuleName, DraftRule>);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const [confirmingDelete, setConfirmingDelete] = useState(false);
  const errorBox = useRef<HTMLParagraphElement>(null);

  const fieldDefs: FieldDef[] = fields.map(toFieldDef);
  const errorAt = (path: string) => fieldErrorFor(error, path);
  const searchable = fields.filter((f) => SEARCHABLE.has(f.type) && f.name.trim() && !search.includes(f.name.trim())).map((f) => f.name.trim());

  useEffect(() => {
    if (error) errorBox.current?.focus();
  }, [error]);

  function definition() {
    const indexDefs = indexes.map((i) => ({ fields: i.fields.split(',').map((s) => s.trim()).filter(Boolean), ...(i.unique ? { unique: true } : {}) }));
    const ruleDefs = Object.fromEntries(RULES.map((r) => [r, ruleValue(rules[r])]));
    return { name: name.trim(), fields: fieldDefs, indexes: indexDefs, search, rules: ruleDefs };
  }

  async function save(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const def = definition();
      const result = original
        ? await galley.collections.update(original.name, original.system ? { ...def, name: undefined } : def)
        : await galley.collections.create(def);
      client.setQueryData(['collection', result.name], result);
      await client.invalidateQueries({ queryKey: ['collections'] });
      setSaved(true);
      if (!original || result.name !== original.name) navigate(`/collections/${encodeURIComponent(result.name)}/schema`, { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    setConfirmingDelete(false);
    setBusy(true);
    try {
      await galley.collections.delete(original!.name);
      client.removeQueries({ queryKey: ['collection', original!.name] });
      await client.invalidateQueries({ queryKey: ['collections'] });
      navigate('/collections');
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  const move = <T,>(list: T[], index: number, delta: number): T[] => {
    const next = [...list];
    const [item] = next.splice(index, 1);
    next.splice(index + delta, 0, item!);
    return next;
  };

  const fieldErrorCount = error instanceof GalleyError ? error.fieldErrors.length : 0;
  const summary: string | null = !error ? null : (error instanceof GalleyError && error.code === 'validation_failed'
    ? `Not saved: ${fieldErrorCount === 1 ? '1 problem' : `${fieldErrorCount} problems`}, shown next to ${fieldErrorCount === 1 ? 'its control' : 'their controls'}.`
    : `Not saved: ${describeError(error)}`);
  const unplaced = error instanceof GalleyError ? error.fieldErrors.filter((e) => e.field === '' || /^(indexes|search)$/.test(e.field)) : [];

  return (
    <section aria-labelledby="editor-title">
      <div className="screen-head">
        <h1 id="editor-title">{original ? `Schema of ${original.name}` : 'New collection'}</h1>
        {original && (
          <div className="row">
            <Link to={`/collections/${encodeURIComponent(original.name)}/rules`}>Test rules</Link>
            <Link to={`/collections/${encodeURIComponent(original.name)}`}>Records</Link>
          </div>
        )}
      </div>
      <form onSubmit={save} aria-label={original ? `Schema of ${original.name}` : 'New collection'} className="stack" noValidate>
        {summary && (
          <p className="form-error" role="alert" tabIndex={-1} ref={errorBox}>
            {summary}
            {unplaced.map((e) => <span key={e.field + e.message} className="block">{e.field ? `${e.field}: ` : ''}{e.message}</span>)}
          </p>
        )}
        {saved && <p role="status" className="saved">Saved.</p>}
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} disabled={original?.system} required pattern="[a-z][a-z0-9_]{0,62}" aria-invalid={errorAt('name') ? true : undefined} />
          {errorAt('name') ? <span className="field-error">{errorAt('name')}</span> : <span className="hint">a–z, 0–9 and _, starting with a letter</span>}
        </label>

        <h2>Fields</h2>
        {fields.map((f, i) => (
          <FieldEditor
            key={f.key}
            field={f}
            index={i}
            count={fields.length}
            collections={collections.data ?? []}
            errorFor={(property) => errorAt(`fields[${i}].${property}`) ?? (property === 'name' ? errorAt(`fields[${i}]`) : undefined)}
            onChange={(next) => setFields(fields.map((x) => (x.key === f.key ? next : x)))}
            onMove={(delta) => setFields(move(fields, i, delta))}
            onRemove={() => setFields(fields.filter((x) => x.key !== f.key))}
          />
        ))}
        <div>
          <button type="button" onClick={() => setFields([...fields, emptyField()])}>Add field</button>
        </div>

        <h2>Indexes</h2>
        {indexes.length === 0 && <p className="hint">No indexes. Add one for fields you filter or sort on often, or to keep values unique.</p>}
        {indexes.map((index, i) => (
          <div className="row" key={index.key}>
            <label>
              Index {i + 1} fields
              <input value={index.fields} onChange={(e) => setIndexes(indexes.map((x) => (x.key === index.key ? { ...x, fields: e.target.value } : x)))} aria-invalid={errorAt(`indexes[${i}]`) || errorAt(`indexes[${i}].fields`) ? true : undefined} />
              {errorAt(`indexes[${i}].fields`) ?? errorAt(`indexes[${i}]`) ? <span className="field-error">{errorAt(`indexes[${i}].fields`) ?? errorAt(`indexes[${i}]`)}</span> : <span className="hint">Comma-separated; several make a composite index</span>}
            </label>
            <label className="inline">
              <input type="checkbox" checked={index.unique} onChange={(e) => setIndexes(indexes.map((x) => (x.key === index.key ? { ...x, unique: e.target.checked } : x)))} />
              Unique
            </label>
            <button type="button" className="danger" onClick={() => setIndexes(indexes.filter((x) => x.key !== index.key))}>Remove index {i + 1}</button>
          </div>
        ))}
        <div>
          <button type="button" onClick={() => setIndexes([...indexes, { key: `i${indexKey++}`, fields: '', unique: false }])}>Add index</button>
        </div>

        <h2>Search</h2>
        <p className="hint">Full-text search covers these fields; the first counts most (weights A, B, C, D).</p>
        <ol className="search-list">
          {search.map((field, i) => (
            <li key={field} className="row">
              <span><strong>{field}</strong> <span className="badge">weight {WEIGHT_CLASSES[Math.min(i, 3)]}</span></span>
              <button type="button" onClick={() => setSearch(move(search, i, -1))} disabled={i === 0} aria-label={`Move ${field} up in search`}>↑</button>
              <button type="button" onClick={() => setSearch(move(search, i, 1))} disabled={i === search.length - 1} aria-label={`Move ${field} down in search`}>↓</button>
              <button type="button" onClick={() => setSearch(search.filter((s) => s !== field))} aria-label={`Remove ${field} from search`}>Remove</button>
              {errorAt(`search[${i}]`) && <span className="field-error">{errorAt(`search[${i}]`)}</span>}
            </li>
          ))}
        </ol>
        {searchable.length > 0 && (
          <div className="row">
            {searchable.map((field) => (
              <button type="button" key={field} onClick={() => setSearch([...search, field])}>Search {field}</button>
            ))}
          </div>
        )}

        <h2>Rules</h2>
        <p className="hint">Superusers pass every rule. An expression must hold for the request and the record (docs/expressions.md).</p>
        {RULES.map((rule) => (
          <fieldset key={rule} className="rule">
            <legend>{rule} rule</legend>
            <label>
              Who may {rule}
              <select value={rules[rule].mode} onChange={(e) => setRules({ ...rules, [rule]: { ...rules[rule], mode: e.target.value as RuleMode } })}>
                <option value="superusers">Superusers only</option>
                <option value="anyone">Anyone</option>
                <option value="expression">When an expression holds</option>
              </select>
            </label>
            {rules[rule].mode === 'expression' && (
              <ExpressionInput
                label={`${rule} expression`}
                value={rules[rule].expression}
                onChange={(expression) => setRules({ ...rules, [rule]: { ...rules[rule], expression } })}
                collection={name.trim()}
                fields={fieldDefs}
                saveError={errorAt(`rules.${rule}`)}
              />
            )}
            {rules[rule].mode !== 'expression' && errorAt(`rules.${rule}`) && <span className="field-error">{errorAt(`rules.${rule}`)}</span>}
          </fieldset>
        ))}

        <div className="row">
          <button type="submit" className="primary" disabled={busy}>{busy ? 'Saving…' : original ? 'Save changes' : 'Create collection'}</button>
          {original && !original.system && (
            <button type="button" className="danger" onClick={() => setConfirmingDelete(true)} disabled={busy}>Delete collection</button>
          )}
        </div>
      </form>
      {original && (
        <ConfirmDialog open={confirmingDelete} title={`Delete ${original.name}?`} confirmLabel={`Delete ${original.name}`} onConfirm={() => void remove()} onClose={() => setConfirmingDelete(false)}>
          <p>The collection and every one of its records and files are deleted. This cannot be undone.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
