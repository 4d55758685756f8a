// One record, created or edited: a control per field (components/record-field.tsx), the server's
// validation errors on the fields they name with every typed value kept, and optimistic
// concurrency: each save sends the ETag the record was loaded with (If-Match), so an edit of a
// version someone else has since changed is refused (412) and a dialog shows both versions and
// lets the person choose. An update sends only the fields that changed. Loaded lazily (app.tsx):
// its controls are not part of the dashboard's first load.

import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { GalleyError, type BaseRecord, type CollectionDef } from '@galley/sdk';
import { galley } from '../client.ts';
import { describeError } from '../problems.ts';
import { Link, navigate } from '../router.tsx';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { RecordField } from '../components/record-field.tsx';
import { draftOf, toBody, type Draft, type DraftValue } from '../components/record-draft.ts';
import { useCollection } from './collections.tsx';

interface Version {
  record: BaseRecord;
  etag: string | undefined;
}

interface Conflict {
  mine: Record<string, unknown>;
  theirs: Version;
}

/** Said once on the next editor shown: "Record created." survives the move to the new record's URL. */
let flash: string | null = null;

const recordPath = (name: string, id: string) => `/collections/${encodeURIComponent(name)}/records/${encodeURIComponent(id)}`;
const listPath = (name: string) => `/collections/${encodeURIComponent(name)}`;
const shown = (value: unknown) => (value === undefined ? '(not set)' : JSON.stringify(value, null, 2));

async function loadVersion(name: string, id: string, signal?: AbortSignal): Promise<Version> {
  const records = galley.collection(name);
  const record = await records.get(id, { signal });
  // Kept beside the record: the query cache may copy the object, and the SDK keys ETags by object.
  return { record, etag: records.etagOf(record) };
}

export function RecordEditorScreen({ name, id }: { name: string; id: string | null }) {
  const collection = useCollection(name);
  const version = useQuery({
    queryKey: ['record', name, id],
    queryFn: ({ signal }) => loadVersion(name, id!, signal),
    enabled: id !== null,
    // The form holds its own copy; a refetch must not reset what is being typed. Opened again
    // later, the record is fetched afresh (nothing kept), so an edit starts from its latest version.
    staleTime: Infinity,
    gcTime: 0,
  });
  const error = collection.error ?? version.error;
  if (error)
    return (
      <section aria-labelledby="record-title">
        <h1 id="record-title">{id ?? `New ${name} record`}</h1>
        <p role="alert" className="form-error">
          {error instanceof GalleyError && error.status === 404 && version.isError ? `There is no record ${id} in ${name} (it may have been deleted).` : describeError(error)}
        </p>
        <Link to={listPath(name)}>Back to {name}</Link>
      </section>
    );
  if (!collection.data || (id !== null && !version.data)) return <p className="page-status" role="status">Loading…</p>;
  return <RecordForm key={id ?? 'new'} name={name} def={collection.data} loaded={version.data ?? null} />;
}

function RecordForm({ name, def, loaded }: { name: string; def: CollectionDef; loaded: Version | null }) {
  const queries = useQueryClient();
  const records = galley.collection(name);
  const [base, setBase] = useState<Version | null>(loaded);
  const [draft, setDraft] = useState<Draft>(() => draftOf(def, loaded?.record ?? null));
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(() => {
    const said = flash;
    flash = null;
    return said;
  });
  const [saving, setSaving] = useState(false);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const conflictDialog = useRef<HTMLDialogElement>(null);
  const hasProtectedFiles = def.fields.some((f) => f.type === 'file' && f.protected);
  const fileToken = useQuery({ queryKey: ['file-token'], queryFn: ({ signal }) => galley.files.token({ signal }), enabled: hasProtectedFiles && base !== null, staleTime: 60_000, refetchInterval: 90_000 });
  const uploading = Object.values(draft).some((v) => typeof v === 'object' && !Array.isArray(v) && v.uploads.some((u) => u.state !== 'done'));

  useEffect(() => {
    if (conflict) conflictDialog.current?.showModal();
  }, [conflict]);

  const change = (field: string) => (update: (current: DraftValue) => DraftValue) => {
    setDraft((d) => ({ ...d, [field]: update(d[field]!) }));
    setStatus(null);
  };

  function adopt(version: Version) {
    setBase(version);
    setDraft(draftOf(def, version.record));
    queries.setQueryData(['record', name, version.record.id], version);
  }

  function showFailure(err: unknown) {
    const errors = err instanceof GalleyError ? err.fieldErrors : [];
    const known = new Set(def.fields.map((f) => f.name));
    setFieldErrors(Object.fromEntries(errors.filter((e) => known.has(e.field)).map((e) => [e.field, e.message])));
    const elsewhere = errors.filter((e) => !known.has(e.field));
    setFormError([describeError(err), ...elsewhere.map((e) => `${e.field}: ${e.message}`)].join(' '));
  }

  /** Sends `body`; on a stale version, fetches the current one and opens the conflict dialog. */
  async function write(body: Record<string, unknown>, against: Version | null) {
    setSaving(true);
    setFormError(null);
    setStatus(null);
    try {
      if (!against) {
        const created = await records.create(body);
        queries.setQueryData(['record', name, created.id], { record: created, etag: records.etagOf(created) });
        flash = 'Record created.';
        navigate(recordPath(name, created.id), { replace: true });
      } else {
        const updated = await records.update(against.record.id, body, { ifMatch: against.etag });
        adopt({ record: updated, etag: records.etagOf(updated) });
        setFieldErrors({});
        setStatus('Saved.');
      }
      void queries.invalidateQueries({ queryKey: ['records', name] });
    } catch (err) {
      if (err instanceof GalleyError && err.status === 412 && against) {
        try {
          setConflict({ mine: body, theirs: await loadVersion(name, against.record.id) });
        } catch (reload) {
          showFailure(reload);
        }
      } else showFailure(err);
    } finally {
      setSaving(false);
    }
  }

  function save(event: FormEvent) {
    event.preventDefault();
    const { body, errors } = toBody(def, draft, base?.record ?? null);
    if (Object.keys(errors).length > 0) {
      setFieldErrors(errors);
      setFormError(`${Object.keys(errors).length === 1 ? 'One field needs' : `${Object.keys(errors).length} fields need`} attention before saving.`);
      return;
    }
    if (base && Object.keys(body).length === 0) {
      setStatus('Nothing changed.');
      return;
    }
    void write(body, base);
  }

  function resolve(choice: 'mine' | 'theirs' | 'cancel') {
    const current = conflict!;
    conflictDialog.current?.close();
    setConflict(null);
    if (choice === 'theirs') {
      adopt(current.theirs);
      setFieldErrors({});
      setFormError(null);
      setStatus('Loaded the saved version; your edit was discarded.');
    } else if (choice === 'mine') {
      void write(current.mine, current.theirs);
    }
  }

  async function remove() {
    try {
      await records.delete(base!.record.id, { ifMatch: base!.etag });
      setConfirmDelete(false);
      queries.removeQueries({ queryKey: ['record', name, base!.record.id] });
      void queries.invalidateQueries({ queryKey: ['records', name] });
      navigate(listPath(name));
    } catch (err) {
      setFormError(err instanceof GalleyError && err.status === 412 ? 'Someone changed this record since you opened it. Reload it to see their version before deleting.' : describeError(err));
      setConfirmDelete(false);
    }
  }

  const title = base ? `${name} · ${base.record.id}` : `New ${name} record`;
  return (
    <section aria-labelledby="record-title" className="record-editor">
      <nav aria-label="Breadcrumb" className="hint">
        <Link to={listPath(name)}>{name}</Link> / {base ? base.record.id : 'new'}
      </nav>
      <div className="screen-head">
        <h1 id="record-title">{title}</h1>
        {base && (
          <button type="button" className="danger" onClick={() => setConfirmDelete(true)}>
            Delete record
          </button>
        )}
      </div>
      {base && (
        <dl className="record-meta">
          <div><dt>Created</dt><dd>{String(base.record.created)}</dd></div>
          <div><dt>Updated</dt><dd>{String(base.record.updated)}</dd></div>
        </dl>
      )}

      <form className="stack record-form" aria-labelledby="record-title" noValidate onSubmit={save}>
        {def.fields.map((field) => (
          <RecordField
            key={field.name}
            collection={name}
            recordId={base?.record.id ?? null}
            field={field}
            value={draft[field.name]!}
            onChange={change(field.name)}
            error={fieldErrors[field.name]}
            fileToken={fileToken.data?.token}
          />
        ))}
        {formError && <p role="alert" className="form-error">{formError}</p>}
        <div className="row">
          <button type="submit" className="primary" disabled={saving || uploading}>
            {saving ? 'Saving…' : base ? 'Save changes' : 'Create record'}
          </button>
          <Link to={listPath(name)}>Back to {name}</Link>
          <span role="status" className="saved">{uploading ? 'Waiting for uploads to finish…' : status}</span>
        </div>
      </form>

      <dialog ref={conflictDialog} aria-labelledby="conflict-title" onCancel={() => resolve('cancel')}>
        {conflict && (
          <div className="stack">
            <h2 id="conflict-title">This record changed while you edited it</h2>
            <p>
              Someone saved it at {String(conflict.theirs.record.updated)}. Compare the fields you changed, then keep one version.
            </p>
            <div className="versions">
              <section aria-labelledby="conflict-mine">
                <h3 id="conflict-mine">Your edit</h3>
                <pre tabIndex={0}>{Object.entries(conflict.mine).map(([k, v]) => `${k}: ${shown(v)}`).join('\n')}</pre>
              </section>
              <section aria-labelledby="conflict-theirs">
                <h3 id="conflict-theirs">Saved version</h3>
                <pre tabIndex={0}>{Object.keys(conflict.mine).map((k) => `${k}: ${shown(conflict.theirs.record[k])}`).join('\n')}</pre>
              </section>
            </div>
            <div className="row">
              <button type="button" className="primary" onClick={() => resolve('mine')}>Save my edit over it</button>
              <button type="button" onClick={() => resolve('theirs')}>Discard my edit, load the saved version</button>
              <button type="button" onClick={() => resolve('cancel')} autoFocus>Keep editing</button>
            </div>
          </div>
        )}
      </dialog>

      <ConfirmDialog open={confirmDelete} title="Delete this record?" confirmLabel="Delete" onConfirm={() => void remove()} onClose={() => setConfirmDelete(false)}>
        <p>It is deleted with its files. This cannot be undone.</p>
      </ConfirmDialog>
    </section>
  );
}
