// The control of a file field: the files the record keeps (images previewed from their first
// declared thumbnail, which is the original until the background job has made it), and a drop zone
// (or file picker) that starts a resumable tus upload per file, with progress, pause, resume and
// retry. A retry continues the failed upload from the server's offset (`uploadUrl`), so bytes
// already sent are not sent again. Finished uploads go into the body as `{ upload: id }`.

import { useId, useState, type DragEvent } from 'react';
import type { FieldDef } from '@galley/sdk';
import { galley } from '../client.ts';
import { describeError } from '../problems.ts';
import type { FileDraft, PendingUpload } from './record-draft.ts';

const IMAGE_NAME = /\.(png|jpe?g|webp|gif|avif)$/i;
let nextKey = 0;

function kilobytes(bytes: number): string {
  return bytes < 1024 * 1024 ? `${Math.ceil(bytes / 1024)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** A preview of a picked image, from the browser's own copy (blob: URLs are allowed by the CSP). */
function LocalPreview({ file }: { file: File }) {
  const [url] = useState(() => (file.type.startsWith('image/') ? URL.createObjectURL(file) : null));
  if (!url) return null;
  return <img src={url} alt="" className="thumb" onLoad={() => URL.revokeObjectURL(url)} />;
}

export function FileField({ collection, recordId, field, value, onChange, fileToken, invalid, describedBy }: {
  collection: string;
  recordId: string | null;
  field: FieldDef;
  value: FileDraft;
  onChange: (update: (current: FileDraft) => FileDraft) => void;
  /** For protected fields, a file token (an <img> cannot send the session). */
  fileToken: string | undefined;
  invalid: boolean;
  describedBy?: string;
}) {
  const multiple = field.multiple === true;
  const inputId = useId();
  const [dragging, setDragging] = useState(false);

  const patch = (key: string, change: Partial<PendingUpload>) =>
    onChange((current) => ({ ...current, uploads: current.uploads.map((u) => (u.key === key ? { ...u, ...change } : u)) }));

  /** Starts (or, with `resumeFrom`, continues) the upload of `file` under `key`. */
  function send(key: string, file: File, resumeFrom?: string | null) {
    const handle = galley.collection(collection).upload(file, {
      uploadUrl: resumeFrom ?? undefined,
      onProgress: (sent) => patch(key, { sent }),
    });
    handle.then(
      (ref) => patch(key, { state: 'done', id: ref.upload, sent: file.size, error: undefined }),
      (err: unknown) => {
        if (err instanceof DOMException && err.name === 'AbortError') return;
        patch(key, { state: 'failed', error: describeError(err) });
      },
    );
    return handle;
  }

  function add(files: FileList | null) {
    if (!files || files.length === 0) return;
    const picked = multiple ? [...files] : [files[0]!];
    const started: PendingUpload[] = picked.map((file) => {
      const key = `u${nextKey++}`;
      return { key, file, state: 'uploading', sent: 0, handle: send(key, file) };
    });
    onChange((current) => {
      // A single field holds one file: a new pick replaces the one there and any earlier upload.
      if (!multiple) current.uploads.forEach((u) => void u.handle.abort());
      return multiple ? { ...current, uploads: [...current.uploads, ...started] } : { kept: [], uploads: started };
    });
  }

  function remove(upload: PendingUpload) {
    void upload.handle.abort();
    onChange((current) => ({ ...current, uploads: current.uploads.filter((u) => u.key !== upload.key) }));
  }

  function onDrop(event: DragEvent<HTMLDivElement>) {
    event.preventDefault();
    setDragging(false);
    add(event.dataTransfer.files);
  }

  const thumb = field.thumbs?.[0];
  return (
    <div className="file-field">
      {value.kept.length > 0 && (
        <ul className="files" aria-label={`Files of ${field.name}`}>
          {value.kept.map((name) => {
            const url = recordId ? galley.collection(collection).fileUrl(recordId, name, { thumb, token: fileToken }) : undefined;
            return (
              <li key={name}>
                {url && IMAGE_NAME.test(name) && <img src={url} alt="" className="thumb" loading="lazy" />}
                {url ? <a href={recordId ? galley.collection(collection).fileUrl(recordId, name, { token: fileToken }) : undefined} target="_blank" rel="noreferrer">{name}</a> : name}
                <button type="button" className="link" onClick={() => onChange((current) => ({ ...current, kept: current.kept.filter((n) => n !== name) }))}>
                  Remove<span className="visually-hidden"> {name}</span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {value.uploads.length > 0 && (
        <ul className="files" aria-label={`Uploads to ${field.name}`}>
          {value.uploads.map((u) => (
            <li key={u.key} data-state={u.state}>
              <LocalPreview file={u.file} />
              <span>{u.file.name}</span>
              <progress max={u.file.size || 1} value={u.sent} aria-label={`Upload of ${u.file.name}`} />
              <span className="hint" role="status">
                {u.state === 'done' ? 'Uploaded' : u.state === 'paused' ? 'Paused' : u.state === 'failed' ? `Failed: ${u.error}` : `${kilobytes(u.sent)} of ${kilobytes(u.file.size)}`}
              </span>
              {u.state === 'uploading' && (
                <button type="button" onClick={() => void u.handle.pause().then(() => patch(u.key, { state: 'paused' }))}>
                  Pause<span className="visually-hidden"> {u.file.name}</span>
                </button>
              )}
              {u.state === 'paused' && (
                <button type="button" onClick={() => { u.handle.resume(); patch(u.key, { state: 'uploading' }); }}>
                  Resume<span className="visually-hidden"> {u.file.name}</span>
                </button>
              )}
              {u.state === 'failed' && (
                <button type="button" onClick={() => patch(u.key, { state: 'uploading', error: undefined, handle: send(u.key, u.file, u.handle.url) })}>
                  Retry<span className="visually-hidden"> {u.file.name}</span>
                </button>
              )}
              <button type="button" className="link" onClick={() => remove(u)}>
                Remove<span className="visually-hidden"> {u.file.name}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <div
        className={dragging ? 'drop-zone dragging' : 'drop-zone'}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <label htmlFor={inputId}>
          Drop {multiple ? 'files' : 'a file'} here or choose {multiple ? 'them' : 'one'}
          <span className="hint">
            {field.mimeTypes?.length ? ` ${field.mimeTypes.join(', ')}` : ''}
            {field.maxSize ? ` · at most ${kilobytes(field.maxSize)}` : ''}
          </span>
        </label>
        <input
          id={inputId}
          type="file"
          multiple={multiple}
          accept={field.mimeTypes?.join(',')}
          aria-invalid={invalid || undefined}
          aria-describedby={describedBy}
          onChange={(e) => {
            add(e.target.files);
            e.target.value = '';
          }}
        />
      </div>
    </div>
  );
}
