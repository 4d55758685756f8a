// The dashboard shell: the sign-in gate, then the header, the collection navigation and the screen
// the URL names. Routes are matched here, in one list, so the whole map of the app is on one page.

import { lazy, Suspense, type ReactNode } from 'react';
import { Link, navigate, useLocation } from './router.tsx';
import { describeError } from './problems.ts';
import { isSuperuser, useNeedsSuperuser, useSession, useSessionUpdate } from './session.ts';
import { LoginScreen } from './screens/login.tsx';
import { CollectionsScreen } from './screens/collections.tsx';
import { CollectionEditorScreen } from './screens/collection-editor.tsx';
import { SetupScreen } from './screens/setup.tsx';
import { RuleTesterScreen } from './screens/rule-tester.tsx';
import { UsersScreen } from './screens/users.tsx';
import { AuditScreen } from './screens/audit.tsx';
import { OperationsScreen } from './screens/operations.tsx';
import { ConnectionBanner } from './components/connection-banner.tsx';
import { RecordsScreen } from './screens/records.tsx';

// Screens most visits never open load with their first use: the record editor's controls
// (relation picker, uploads), and the webhooks.
const RecordEditorScreen = lazy(() => import('./screens/record-editor.tsx').then((m) => ({ default: m.RecordEditorScreen })));
const WebhooksScreen = lazy(() => import('./screens/webhooks.tsx').then((m) => ({ default: m.WebhooksScreen })));
const WebhookDeliveriesScreen = lazy(() => import('./screens/webhook-deliveries.tsx').then((m) => ({ default: m.WebhookDeliveriesScreen })));

type Route =
  | { screen: 'collections' }
  | { screen: 'collection-new' }
  | { screen: 'collection-schema'; name: string }
  | { screen: 'rule-tester'; name: string }
  | { screen: 'people' }
  | { screen: 'audit' }
  | { screen: 'operations' }
  | { screen: 'webhooks' }
  | { screen: 'webhook'; id: string }
  | { screen: 'records'; name: string }
  | { screen: 'record'; name: string; id: string | null }
  | { screen: 'not-found' };

export function matchRoute(path: string): Route {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === 'collections')) return { screen: 'collections' };
  if (parts.length === 1 && parts[0] === 'people') return { screen: 'people' };
  if (parts.length === 1 && parts[0] === 'audit') return { screen: 'audit' };
  if (parts.length === 1 && parts[0] === 'operations') return { screen: 'operations' };
  if (parts[0] === 'webhooks' && parts.length <= 2) return parts.length === 1 ? { screen: 'webhooks' } : { screen: 'webhook', id: parts[1]! };
  if (parts[0] !== 'collections') return { screen: 'not-found' };
  const name = parts[1]!;
  if (parts.length === 2) return name === 'new' ? { screen: 'collection-new' } : { screen: 'records', name };
  if (parts.length === 3 && parts[2] === 'schema') return { screen: 'collection-schema', name };
  if (parts.length === 3 && parts[2] === 'rules') return { screen: 'rule-tester', name };
  if (parts.length === 4 && parts[2] === 'records') return { screen: 'record', name, id: parts[3] === 'new' ? null : parts[3]! };
  return { screen: 'not-found' };
}

function Screen({ route }: { route: Route }): ReactNode {
  switch (route.screen) {
    case 'collections':
      return <CollectionsScreen />;
    case 'collection-new':
      return <CollectionEditorScreen name={null} />;
    case 'collection-schema':
      return <CollectionEditorScreen name={route.name} />;
    case 'rule-tester':
      return <RuleTesterScreen name={route.name} />;
    case 'people':
      return <UsersScreen />;
    case 'audit':
      return <AuditScreen />;
    case 'operations':
      return <OperationsScreen />;
    case 'webhooks':
      return <WebhooksScreen />;
    case 'webhook':
      return <WebhookDeliveriesScreen key={route.id} id={route.id} />;
    case 'records':
      return <RecordsScreen key={route.name} name={route.name} />;
    case 'record':
      return <RecordEditorScreen key={`${route.name}/${route.id ?? ''}`} name={route.name} id={route.id} />;
    case 'not-found':
    default:
      return (
        <section aria-labelledby="not-found-title">
          <h1 id="not-found-title">Page not found</h1>
          <p>
            <Link to="/collections">Go to the collections</Link>
          </p>
        </section>
      );
  }
}

export function App() {
  const session = useSession();
  const { signOut } = useSessionUpdate();
  const { path } = useLocation();
  const setup = useNeedsSuperuser(session.isSuccess && session.data === null);

  if (session.isPending) return <p className="page-status" role="status">Loading…</p>;
  if (session.isError)
    return (
      <main className="login">
        <h1>Galley admin</h1>
        <p role="alert" className="form-error">{describeError(session.error)}</p>
        <button type="button" onClick={() => session.refetch()}>Try again</button>
      </main>
    );
  const user = session.data;
  if (!user) {
    if (setup.isPending) return <p className="page-status" role="status">Loading…</p>;
    // A failed setup check leaves the sign-in form, which explains the other ways to a superuser.
    return setup.data ? <SetupScreen /> : <LoginScreen />;
  }
  if (!isSuperuser(user))
    return (
      <main className="login">
        <h1>Galley admin</h1>
        <p role="alert">
          <strong>{user.email}</strong> is signed in but is not a superuser. The dashboard is for superusers (the <code>admin</code> role).
        </p>
        <button type="button" onClick={() => signOut()}>Sign out</button>
      </main>
    );

  return (
    <div className="shell">
      <a className="skip-link" href="#main">Skip to content</a>
      <ConnectionBanner />
      <header className="topbar">
        <Link to="/collections" className="brand">Galley</Link>
        <nav aria-label="Sections" className="topnav">
          <Link to="/collections">Collections</Link>
          <Link to="/people">People</Link>
          <Link to="/audit">Audit log</Link>
          <Link to="/webhooks">Webhooks</Link>
          <Link to="/operations">Operations</Link>
        </nav>
        <span className="who" title={user.email}>{user.email}</span>
        <button
          type="button"
          onClick={async () => {
            await signOut();
            navigate('/collections', { replace: true });
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main" className="content" tabIndex={-1}>
        <Suspense fallback={<p className="page-status" role="status">Loading…</p>}>
          <Screen route={matchRoute(path)} />
        </Suspense>
      </main>
    </div>
  );
}
