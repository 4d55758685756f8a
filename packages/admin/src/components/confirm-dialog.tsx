// A modal question before something that cannot be undone (a delete, a secret rotation). The native
// <dialog> traps focus and closes on Escape; Cancel takes focus when it opens, so a stray Enter
// never confirms. The parent owns `open`: the dialog follows it and reports every way it closes.

import { useEffect, useId, useRef, type ReactNode } from 'react';

export function ConfirmDialog({
  open,
  title,
  confirmLabel,
  onConfirm,
  onClose,
  error,
  busy = false,
  children,
}: {
  open: boolean;
  title: string;
  confirmLabel: string;
  onConfirm: () => void;
  /** Cancel, Escape, or the parent closing it. */
  onClose: () => void;
  /** Why the last confirmation failed; the dialog stays open to show it. */
  error?: string | null;
  busy?: boolean;
  /** What exactly will happen. */
  children: ReactNode;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const titleId = useId();

  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) {
      element.showModal();
      cancel.current?.focus();
    } else if (!open && element.open) {
      element.close();
    }
  }, [open]);

  return (
    <dialog ref={dialog} aria-labelledby={titleId} onClose={onClose}>
      {open && (
        <div className="stack">
          <h2 id={titleId}>{title}</h2>
          {children}
          {error && <p role="alert" className="form-error">{error}</p>}
          <div className="row">
            <button type="button" className="danger" onClick={onConfirm} disabled={busy}>{confirmLabel}</button>
            <button type="button" ref={cancel} onClick={onClose}>Cancel</button>
          </div>
        </div>
      )}
    </dialog>
  );
}
