// A real OpenID Connect provider (oidc-provider, certified) on 127.0.0.1 for the OAuth suites,
// with its development sign-in and consent pages, one confidential client and accounts the test
// defines. signInAt() walks those pages the way a person in a browser would.

import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import type { TestBrowser } from './browser.ts';

export interface TestAccount {
  email?: string;
  email_verified?: boolean;
}

export interface TestOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Account id (what is typed at the provider's sign-in page) → claims. */
  accounts: Map<string, TestAccount>;
  close(): Promise<void>;
}

/** Starts the provider; `redirectUri` is Galley's callback, which must be registered with the client. */
export async function startOidcProvider(redirectUri: string): Promise<TestOidcProvider> {
  let handle: http.RequestListener = (_req, res) => res.writeHead(503).end();
  const server = http.createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'galley-test';
  const clientSecret = crypto.randomBytes(24).toString('base64url');
  const accounts = new Map<string, TestAccount>();
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'] }],
    async findAccount(_ctx, id) {
      const account = accounts.get(id);
      return account && { accountId: id, claims: async () => ({ sub: id, ...account }) };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    cookies: { keys: [crypto.randomBytes(16).toString('hex')] },
    features: { devInteractions: { enabled: true } },
    // Explicit lifetimes (seconds), which also keeps the provider from printing a notice per default.
    ttl: { AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600 },
  });
  handle = provider.callback();
  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * From the provider's authorization URL: signs in as `accountId` on its sign-in page, grants
 * consent if asked, and returns the URL the provider sends the browser back to (not requested).
 */
export async function signInAt(browser: TestBrowser, authorizationUrl: string, accountId: string, provider: TestOidcProvider): Promise<string> {
  const away = (url: string) => !url.startsWith(provider.issuer);
  let step = await browser.follow(authorizationUrl, away);
  for (let pages = 0; pages < 4 && step.response; pages++) {
    const html = await step.response.text();
    if (step.response.status !== 200) throw new Error(`the provider answered ${step.response.status}: ${html.slice(0, 500)}`);
    const fields: Record<string, string> = html.includes('name="login"') ? { login: accountId, password: 'any' } : {};
    step = await browser.submitForm(step.url, html, fields, away);
  }
  if (step.response) throw new Error('the provider did not send the browser back');
  return step.url;
}
