// Sign-in through OAuth 2 / OpenID Connect providers: starting the flow (state, nonce and PKCE
// verifier sealed into a short-lived value the browser keeps), finishing it, and deciding which
// account the identity belongs to. Knows nothing of HTTP; routes/oauth.ts carries the cookie.
//
// Accounts: a known identity signs into its account; otherwise the provider must vouch for the
// email (verified), and then it links to the account with that email — only if that account has
// verified it too, so a squatter who registered someone else's address gains nothing — or a new
// account is created with it.

import crypto from 'node:crypto';
import * as client from 'openid-client';
import { ApiError } from './api-error.ts';
import type { AuthService, SessionMeta } from './auth.ts';
import type { AuthUser } from './caller.ts';
import { OAuthAnswerError, type OAuthChecks, type OAuthProfile, type OAuthProvider } from './oauth-providers.ts';
import { POLICIES } from './rate-limit.ts';
import { seal, unseal } from './sealing.ts';
import type { SignInOutcome, SignInService } from './sign-in.ts';
import { SqlParams, UniqueViolationError, type Database } from '../db/database.ts';

/** Time from leaving for the provider to coming back: enough to sign in there, not to keep a flow open for later. */
export const OAUTH_FLOW_TTL_MS = 10 * 60 * 1000;
const MAX_REDIRECT_LENGTH = 2048;

/** What the browser keeps between the start and the callback (sealed: it can neither read nor alter it). */
interface FlowState extends OAuthChecks {
  provider: string;
  redirect: string;
  expires: number;
}

const failed = (detail: string) => new ApiError('oauth_failed', detail);

export class OAuthService {
  readonly #providers: Map<string, OAuthProvider>;

  constructor(
    private readonly db: Database,
    private readonly auth: AuthService,
    private readonly signIn: SignInService,
    providers: OAuthProvider[],
    private readonly options: { publicUrl: string; allowedOrigins: string[]; stateKey: Buffer },
  ) {
    this.#providers = new Map(providers.map((p) => [p.name, p]));
  }

  get providerNames(): string[] {
    return [...this.#providers.keys()];
  }

  /** Where the provider sends the browser back: built from GALLEY_PUBLIC_URL, never from a Host header. */
  callbackUrl(provider: string): string {
    return `${this.options.publicUrl}/api/v1/auth/oauth/${provider}/callback`;
  }

  /** The provider's authorization URL and the sealed flow state for the browser to keep. */
  async start(providerName: string, redirect: unknown, meta: SessionMeta = {}): Promise<{ url: URL; state: string }> {
    // Each start asks the provider for its metadata and mints a flow: counted per client address.
    await this.auth.limiter.consume(POLICIES.oauthClient, meta.ip ?? 'unknown');
    const provider = this.provider(providerName);
    const target = this.safeRedirect(redirect);
    const flow: FlowState = {
      provider: provider.name,
      redirect: target,
      expires: Date.now() + OAUTH_FLOW_TTL_MS,
      state: client.randomState(),
      nonce: client.randomNonce(),
      codeVerifier: client.randomPKCECodeVerifier(),
    };
    const url = await provider.authorizationUrl(this.callbackUrl(provider.name), flow).catch(providerFailure);
    return { url, state: seal(this.options.stateKey, JSON.stringify(flow), `oauth:${provider.name}`) };
  }

  /**
   * Finishes a flow from the callback's query and the sealed state the browser brought back.
   * Every check failing is `oauth_failed` (or `forbidden` for an email the provider does not vouch for).
   * A failure is audited (`login.failed` with `detail.method` `oauth`) and counted against the
   * client address; a success is audited by the sign-in (`login.succeeded`, method `oauth`).
   */
  async finish(
    providerName: string,
    query: URLSearchParams,
    sealedState: string | undefined,
    meta: SessionMeta,
  ): Promise<{ outcome: SignInOutcome; redirect: string }> {
    const client = meta.ip ?? 'unknown';
    await this.auth.limiter.check(POLICIES.oauthClient, client);
    try {
      return await this.finishFlow(providerName, query, sealedState, meta);
    } catch (err) {
      // An unknown provider name is a 404 like any other path, not a failed sign-in.
      if (err instanceof ApiError && err.code === 'not_found') throw err;
      await this.auth.limiter.hit(POLICIES.oauthClient, client);
      await this.auth.audit.record({
        action: 'login.failed', meta,
        detail: { method: 'oauth', provider: providerName.slice(0, 64), code: err instanceof ApiError ? err.code : 'internal' },
      });
      throw err;
    }
  }

  private async finishFlow(providerName: string, query: URLSearchParams, sealedState: string | undefined, meta: SessionMeta): Promise<{ outcome: SignInOutcome; redirect: string }> {
    const provider = this.provider(providerName);
    const flow = this.openState(provider.name, sealedState);
    const providerError = query.get('error');
    if (providerError !== null) throw failed(`the provider refused the sign-in: ${providerError.replace(/[^a-z_]/g, '').slice(0, 64)}`);
    const returned = Buffer.from(query.get('state') ?? '');
    const expected = Buffer.from(flow.state);
    if (returned.length !== expected.length || !crypto.timingSafeEqual(returned, expected)) {
      throw failed('the state does not match the sign-in this browser started');
    }
    const callback = new URL(this.callbackUrl(provider.name));
    for (const [name, value] of query) callback.searchParams.append(name, value);
    const profile = await provider.profile(callback, flow).catch(providerFailure);
    const user = await this.accountFor(provider.name, profile, meta);
    return { outcome: await this.signIn.complete(user, meta, `oauth:${provider.name}`), redirect: flow.redirect };
  }

  /** A path on this server, or a URL on an allowed origin: anything else could send a signed-in user to an attacker. */
  safeRedirect(redirect: unknown): string {
    if (redirect === undefined || redirect === '') return '/';
    const refuse = () => new ApiError('bad_request', 'redirect must be a path on this server or a URL on an allowed origin (GALLEY_ALLOWED_ORIGINS)');
    // Backslashes and control characters: browsers "fix" them into other URLs than the one checked here.
    if (typeof redirect !== 'string' || redirect.length > MAX_REDIRECT_LENGTH || /[\\\u0000-\u001f\u007f]/.test(redirect)) throw refuse();
    if (redirect.startsWith('/')) {
      // `//host` is protocol-relative: another site.
      if (redirect.startsWith('//') || new URL(redirect, 'http://galley.invalid').origin !== 'http://galley.invalid') throw refuse();
      return redirect;
    }
    let url: URL;
    try {
      url = new URL(redirect);
    } catch {
      throw refuse();
    }
    if (url.username || url.password || !this.options.allowedOrigins.includes(url.origin)) throw refuse();
    return url.href;
  }

  private provider(name: string): OAuthProvider {
    const provider = this.#providers.get(name);
    if (!provider) throw ApiError.notFound(`The sign-in provider "${name.slice(0, 40)}"`);
    return provider;
  }

  private openState(provider: string, sealed: string | undefined): FlowState {
    const json = sealed === undefined ? undefined : unseal(this.options.stateKey, sealed, `oauth:${provider}`);
    if (json === undefined) throw failed('no sign-in with this provider was started in this browser (or its cookie was altered)');
    const flow = JSON.parse(json) as FlowState;
    if (flow.expires <= Date.now()) throw failed('the sign-in took too long: start again');
    return flow;
  }

  private async accountFor(provider: string, profile: OAuthProfile, meta: SessionMeta): Promise<AuthUser> {
    const known = await this.identityUser(provider, profile.subject);
    if (known) return known;
    if (!profile.email || !profile.emailVerified) {
      throw new ApiError('forbidden', 'the provider does not confirm that this email address is yours: verify it there, then sign in again');
    }
    const existing = await this.auth.userByEmail(profile.email);
    if (existing && !existing.verified) {
      throw new ApiError('conflict', 'an account with this email exists but has not verified it: verify the email or sign in with the password first', [
        { field: 'email', code: 'email_unverified', message: 'the existing account has not verified this address' },
      ]);
    }
    let linked: AuthUser;
    try {
      linked = await this.db.transaction(async (tx) => {
        const user = existing ?? (await this.auth.createUser({ email: profile.email!, password: null, verified: true }, tx));
        const p = new SqlParams(this.db.dialect);
        await tx.run(
          `INSERT INTO "_oauth_identities" ("provider", "subject", "user_id", "email", "created") VALUES (${p.add(provider)}, ${p.add(profile.subject)}, ${p.add(user.id)}, ${p.add(profile.email!)}, ${p.add(new Date().toISOString())})`,
          p.values,
        );
        return user;
      });
    } catch (err) {
      // The same identity (or a new account for the email) was created by a concurrent callback: use it.
      if (err instanceof UniqueViolationError || (err instanceof ApiError && err.code === 'conflict')) {
        const raced = await this.identityUser(provider, profile.subject);
        if (raced) return raced;
      }
      throw err;
    }
    if (!existing) await this.auth.audit.record({ action: 'user.registered', user: linked.id, email: profile.email, meta, detail: { method: 'oauth', provider } });
    await this.auth.audit.record({ action: 'oauth.linked', user: linked.id, email: profile.email, meta, detail: { provider, newAccount: !existing } });
    return linked;
  }

  private async identityUser(provider: string, subject: string): Promise<AuthUser | undefined> {
    const p = new SqlParams(this.db.dialect);
    const row = await this.db.get<{ user_id: string }>(
      `SELECT "user_id" FROM "_oauth_identities" WHERE "provider" = ${p.add(provider)} AND "subject" = ${p.add(subject)}`,
      p.values,
    );
    if (!row) return undefined;
    const user = await this.auth.userById(row.user_id);
    if (!user) {
      // The account was deleted since: the identity is free to sign up afresh.
      const d = new SqlParams(this.db.dialect);
      await this.db.run(`DELETE FROM "_oauth_identities" WHERE "provider" = ${d.add(provider)} AND "subject" = ${d.add(subject)}`, d.values);
    }
    return user;
  }
}

/** openid-client's refusals (bad state, reused code, wrong nonce…) are the flow failing; a network failure is the provider being down. */
function providerFailure(err: unknown): never {
  if (
    err instanceof client.ResponseBodyError ||
    err instanceof client.AuthorizationResponseError ||
    err instanceof client.WWWAuthenticateChallengeError ||
    err instanceof client.ClientError ||
    err instanceof OAuthAnswerError
  ) {
    // openid-client wraps the precise check that failed (`unexpected ID Token "nonce" claim value`); values are never in it.
    const reason = err instanceof client.ResponseBodyError ? err.error : err instanceof client.ClientError && err.cause instanceof Error ? err.cause.message : err.message;
    throw failed(`the provider's answer was refused: ${reason.slice(0, 200)}`);
  }
  if (err instanceof TypeError && err.cause) {
    throw new ApiError('unavailable', 'the sign-in provider did not answer; try again shortly', undefined, { headers: { 'retry-after': '5' } });
  }
  throw err;
}
