// Sign-in: email and password, then the second factor when the server asks for one. The typed
// email survives every failure and the way back from the code step.

import { useId, useRef, useState, type FormEvent } from 'react';
import { GalleyError } from '@galley/sdk';
import { describeError } from '../problems.ts';
import { signIn, useSessionUpdate, verifySecondFactor } from '../session.ts';

const REMEMBERED_EMAIL = 'galley:admin-email';

export function LoginScreen() {
  const { signedIn } = useSessionUpdate();
  const [email, setEmail] = useState(() => sessionStorage.getItem(REMEMBERED_EMAIL) ?? '');
  const [password, setPassword] = useState('');
  const [ticket, setTicket] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const passwordInput = useRef<HTMLInputElement>(null);
  const codeInput = useRef<HTMLInputElement>(null);
  const errorId = useId();

  async function submitPassword(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    sessionStorage.setItem(REMEMBERED_EMAIL, email);
    try {
      const step = await signIn(email, password);
      setPassword('');
      if (step.done) signedIn(step.user);
      else {
        setTicket(step.ticket);
        requestAnimationFrame(() => codeInput.current?.focus());
      }
    } catch (err) {
      setError(err instanceof GalleyError && err.code === 'invalid_credentials' ? 'Wrong email or password.' : describeError(err));
      passwordInput.current?.select();
    } finally {
      setBusy(false);
    }
  }

  async function submitCode(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      signedIn(await verifySecondFactor(ticket!, code.trim()));
    } catch (err) {
      // An expired or used-up ticket needs the password again; a wrong code only a new code.
      if (err instanceof GalleyError && err.status === 401 && err.code === 'unauthenticated') {
        setTicket(null);
        setError('The sign-in took too long. Enter your password again.');
      } else {
        setError(err instanceof GalleyError && err.code === 'invalid_credentials' ? 'That code is not right. Check your authenticator app and try again.' : describeError(err));
        codeInput.current?.select();
      }
    } finally {
      setBusy(false);
    }
  }

  const errorBox = error && (
    <p className="form-error" role="alert" id={errorId}>
      {error}
    </p>
  );

  return (
    <main className="login">
      <h1>Galley admin</h1>
      {ticket === null ? (
        <form onSubmit={submitPassword} aria-label="Sign in" aria-describedby={error ? errorId : undefined}>
          <p className="lead">Sign in with a superuser account.</p>
          <label>
            Email
            <input type="email" name="email" autoComplete="username" required autoFocus={!email} value={email} onChange={(e) => setEmail(e.target.value)} />
          </label>
          <label>
            Password
            <input ref={passwordInput} type="password" name="password" autoComplete="current-password" required autoFocus={Boolean(email)} value={password} onChange={(e) => setPassword(e.target.value)} aria-invalid={error ? true : undefined} />
          </label>
          {errorBox}
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
          <p className="hint">
            No superuser yet? Start the server with <code>GALLEY_ADMIN_EMAIL</code> and <code>GALLEY_ADMIN_PASSWORD</code>, or run <code>npm run galley -- admin create EMAIL</code>.
          </p>
        </form>
      ) : (
        <form onSubmit={submitCode} aria-label="Two-factor code" aria-describedby={error ? errorId : undefined}>
          <p className="lead">
            Enter the 6-digit code from your authenticator app for <strong>{email}</strong>, or one of your recovery codes.
          </p>
          <label>
            Code
            <input ref={codeInput} name="code" autoComplete="one-time-code" inputMode="text" required value={code} onChange={(e) => setCode(e.target.value)} aria-invalid={error ? true : undefined} />
          </label>
          {errorBox}
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Checking…' : 'Verify'}
          </button>
          <button
            type="button"
            onClick={() => {
              setTicket(null);
              setCode('');
              setError(null);
            }}
          >
            Use another account
          </button>
        </form>
      )}
    </main>
  );
}
