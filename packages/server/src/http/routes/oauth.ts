// /api/v1/auth/oauth: the browser leaves for a provider with the flow state in a short-lived
// HttpOnly cookie, comes back to the callback, and leaves again for `redirect` — with a session
// cookie, or with the MFA ticket in the URL fragment when the account has a second factor.

import type { FastifyInstance, FastifyReply } from 'fastify';
import { OAUTH_FLOW_TTL_MS, type OAuthService } from '../../core/oauth.ts';
import { SESSION_COOKIE, sessionCookieOptions, sessionMeta } from '../session.ts';

export const OAUTH_COOKIE = 'galley_oauth';
const OAUTH_PATH = '/api/v1/auth/oauth/';

const providerParams = { type: 'object', required: ['provider'], properties: { provider: { type: 'string', maxLength: 64 } } } as const;
const startQuery = { type: 'object', properties: { redirect: { type: 'string' } }, additionalProperties: false } as const;

export async function oauthRoutes(app: FastifyInstance, deps: { oauth: OAuthService; secureCookies: boolean }): Promise<void> {
  const { oauth } = deps;
  // SameSite=Lax: the provider sends the browser back with a top-level GET, which Lax cookies ride along on.
  const flowCookie = { httpOnly: true, sameSite: 'lax' as const, path: OAUTH_PATH, secure: deps.secureCookies };
  const leave = (reply: FastifyReply, location: string) => reply.header('cache-control', 'no-store').redirect(location, 302);

  app.get('/api/v1/auth/oauth', async () => ({ providers: oauth.providerNames }));

  app.get('/api/v1/auth/oauth/:provider', { schema: { params: providerParams, querystring: startQuery } }, async (request, reply) => {
    const { provider } = request.params as { provider: string };
    const { url, state } = await oauth.start(provider, (request.query as { redirect?: string }).redirect, sessionMeta(request));
    reply.setCookie(OAUTH_COOKIE, state, { ...flowCookie, maxAge: OAUTH_FLOW_TTL_MS / 1000 });
    return leave(reply, url.href);
  });

  app.get('/api/v1/auth/oauth/:provider/callback', { schema: { params: providerParams } }, async (request, reply) => {
    const { provider } = request.params as { provider: string };
    // Used up whatever happens next: a callback URL replayed in this browser finds no flow.
    reply.clearCookie(OAUTH_COOKIE, flowCookie);
    const mark = request.url.indexOf('?');
    const query = new URLSearchParams(mark === -1 ? '' : request.url.slice(mark + 1));
    const { outcome, redirect } = await oauth.finish(provider, query, request.cookies[OAUTH_COOKIE], sessionMeta(request));
    if ('mfaRequired' in outcome) {
      // In the fragment, which browsers never send to a server: the page reads it and asks for a code.
      return leave(reply, `${redirect.split('#')[0]}#${new URLSearchParams({ mfaRequired: 'true', ticket: outcome.ticket })}`);
    }
    reply.setCookie(SESSION_COOKIE, outcome.token, sessionCookieOptions(deps.secureCookies));
    return leave(reply, redirect);
  });
}
