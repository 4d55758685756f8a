// A rule expression box that checks the text against the server as it is typed (debounced), and
// shows where an error is: the message, and the expression with the offending character marked.

import { useEffect, useId, useState } from 'react';
import { GalleyError, type FieldDef } from '@galley/sdk';
import { galley } from '../client.ts';
import { describeError } from '../problems.ts';

const DEBOUNCE_MS = 350;

type Check = { state: 'idle' | 'checking' | 'ok' } | { state: 'error'; message: string; position?: number };

export function ExpressionInput(props: {
  label: string;
  value: string;
  onChange(value: string): void;
  /** The collection the rule belongs to (a draft's name for a new one). */
  collection: string;
  /** The editor's current fields, so rules may name fields not saved yet. */
  fields: FieldDef[];
  /** The error the server gave when saving, if any. */
  saveError?: string;
}) {
  const { value, collection, fields } = props;
  const [check, setCheck] = useState<Check>({ state: 'idle' });
  const messageId = useId();
  const fieldsKey = JSON.stringify(fields);

  useEffect(() => {
    if (value.trim() === '') return;
    const abort = new AbortController();
    const timer = setTimeout(() => {
      setCheck({ state: 'checking' });
      galley.collections
        .checkRule(collection || 'draft', value, JSON.parse(fieldsKey) as FieldDef[], { signal: abort.signal })
        .then(() => setCheck({ state: 'ok' }))
        .catch((err: unknown) => {
          if (abort.signal.aborted) return;
          if (err instanceof GalleyError && err.code === 'invalid_filter') {
            const position = typeof err.problem.position === 'number' ? err.problem.position : undefined;
            setCheck({ state: 'error', message: err.detail, position });
          } else if (err instanceof GalleyError && err.code === 'validation_failed') {
            // The draft's fields are invalid; the field editors show why. Nothing to say about the rule yet.
            setCheck({ state: 'idle' });
          } else setCheck({ state: 'error', message: describeError(err) });
        });
    }, DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [value, collection, fieldsKey]);

  // An empty box has nothing to check (whatever an earlier text got back).
  const shown: Check = value.trim() === '' ? { state: 'idle' } : check;
  const error = shown.state === 'error' ? shown.message : props.saveError;
  const position = shown.state === 'error' ? shown.position : undefined;
  return (
    <div className="expression">
      <label>
        {props.label}
        <textarea
          rows={2}
          spellCheck={false}
          value={value}
          onChange={(e) => props.onChange(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={messageId}
        />
      </label>
      <div id={messageId} className="expression-status" aria-live="polite">
        {error ? (
          <>
            <span className="field-error">{error}</span>
            {position !== undefined && (
              <pre className="expression-caret" aria-label={`Error at character ${position + 1}`}>
                {value.slice(0, position)}
                <mark>{value.slice(position, position + 1) || ' '}</mark>
                {value.slice(position + 1)}
              </pre>
            )}
          </>
        ) : shown.state === 'checking' ? (
          <span className="hint">Checking…</span>
        ) : shown.state === 'ok' ? (
          <span className="hint">Valid rule.</span>
        ) : null}
      </div>
    </div>
  );
}
