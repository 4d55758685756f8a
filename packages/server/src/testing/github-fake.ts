// GitHub's OAuth side as far as Galley's GitHub preset uses it — authorize, token exchange (with
// PKCE checked for real), /user and /user/emails — on 127.0.0.1. GitHub itself cannot run in a
// test, so this speaks its documented shapes; the OpenID Connect suites use a real provider.

import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeGitHubUser {
  id: number;
  login: string;
  emails: Array<{ email: string; primary: boolean; verified: boolean }>;
}

export interface FakeGitHub {
  /** GALLEY_OAUTH_GITHUB_URL and _API_URL. */
  webUrl: string;
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  /** Who "signs in at GitHub" on the next authorization. */
  signInAs(user: FakeGitHubUser): void;
  close(): Promise<void>;
}

export async function startFakeGitHub(): Promise<FakeGitHub> {
  const clientId = 'Iv1.galleytest';
  const clientSecret = crypto.randomBytes(20).toString('hex');
  let nextUser: FakeGitHubUser | undefined;
  const codes = new Map<string, { user: FakeGitHubUser; challenge: string; redirectUri: string }>();
  const tokens = new Map<string, FakeGitHubUser>();

  const json = (res: http.ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url!, 'http://github.invalid');
    if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') {
      const p = url.searchParams;
      if (p.get('client_id') !== clientId || p.get('code_challenge_method') !== 'S256' || !nextUser) return json(res, 400, { error: 'bad_request' });
      const code = crypto.randomBytes(10).toString('hex');
      codes.set(code, { user: nextUser, challenge: p.get('code_challenge')!, redirectUri: p.get('redirect_uri')! });
      const back = new URL(p.get('redirect_uri')!);
      back.searchParams.set('code', code);
      back.searchParams.set('state', p.get('state')!);
      return res.writeHead(302, { location: back.href }).end();
    }
    if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') {
      let raw = '';
      for await (const chunk of req) raw += chunk;
      const form = new URLSearchParams(raw);
      const grant = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      const pkceOk = grant && crypto.createHash('sha256').update(verifier).digest('base64url') === grant.challenge;
      if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) return json(res, 401, { error: 'invalid_client' });
      if (!grant || !pkceOk || form.get('redirect_uri') !== grant.redirectUri) return json(res, 400, { error: 'bad_verification_code' });
      const token = `gho_${crypto.randomBytes(16).toString('hex')}`;
      tokens.set(token, grant.user);
      return json(res, 200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
    }
    const user = tokens.get((req.headers.authorization ?? '').replace(/^Bearer /i, ''));
    if (req.method === 'GET' && url.pathname === '/api/user') return user ? json(res, 200, { id: user.id, login: user.login }) : json(res, 401, { message: 'Bad credentials' });
    if (req.method === 'GET' && url.pathname === '/api/user/emails') return user ? json(res, 200, user.emails) : json(res, 401, { message: 'Bad credentials' });
    json(res, 404, { message: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const webUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    webUrl,
    apiUrl: `${webUrl}/api`,
    clientId,
    clientSecret,
    signInAs: (user) => (nextUser = user),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
