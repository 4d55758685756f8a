// The first run: no superuser exists yet, so the dashboard offers to create one. The server
// accepts it from its own machine, or with the one-time setup token it printed in its log.

import { useId, useState, type FormEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { GalleyError } from '@galley/sdk';
import { galley } from '../client.ts';
import { describeError, fieldErrorFor } from '../problems.ts';
import { SETUP_KEY, useSessionUpdate } from '../session.ts';

export function SetupScreen() {
  const client = useQueryClient();
  const { signedIn } = useSessionUpdate();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [setupToken, setSetupToken] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const errorId = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await galley.setup.createSuperuser({ email, password, ...(setupToken.trim() ? { setupToken: setupToken.trim() } : {}) });
      client.setQueryData(SETUP_KEY, false);
      signedIn(session.user);
    } catch (err) {
      // Someone else finished the first run meanwhile: the sign-in form is what is left.
      if (err instanceof GalleyError && err.code === 'conflict') client.setQueryData(SETUP_KEY, false);
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const emailError = fieldErrorFor(error, 'email');
  const passwordError = fieldErrorFor(error, 'password');
  const general = error && !emailError && !passwordError
    ? error instanceof GalleyError && error.code === 'forbidden'
      ? 'This server accepts the first superuser only from its own machine. Open the dashboard there (http://127.0.0.1…), or paste the setup token from the server log.'
      : describeError(error)
    : null;

  return (
    <main className="login">
      <h1>Galley admin</h1>
      <form onSubmit={submit} aria-label="Create the first superuser" aria-describedby={general ? errorId : undefined}>
        <h2>Create the first superuser</h2>
        <p className="lead">This server has no superuser yet. The account you create here manages collections, people and settings.</p>
        <label>
          Email
          <input type="email" name="email" autoComplete="username" required autoFocus value={email} onChange={(e) => setEmail(e.target.value)} aria-invalid={emailError ? true : undefined} />
          {emailError && <span className="field-error">{emailError}</span>}
        </label>
        <label>
          Password
          <input type="password" name="password" autoComplete="new-password" required minLength={8} value={password} onChange={(e) => setPassword(e.target.value)} aria-invalid={passwordError ? true : undefined} />
          {passwordError ? <span className="field-error">{passwordError}</span> : <span className="hint">At least 8 characters, not a common password.</span>}
        </label>
        <details>
          <summary>Not on the server's machine?</summary>
          <label>
            Setup token
            <input name="setupToken" autoComplete="off" value={setupToken} onChange={(e) => setSetupToken(e.target.value)} />
            <span className="hint">The server prints a one-time token in its log at start while no superuser exists.</span>
          </label>
        </details>
        {general && <p className="form-error" role="alert" id={errorId}>{general}</p>}
        <button type="submit" className="primary" disabled={busy}>{busy ? 'Creating…' : 'Create superuser'}</button>
      </form>
    </main>
  );
}
