// Sign-in providers behind one small interface, both driven by openid-client: any OpenID Connect
// provider (found by discovery; the identity comes from the validated ID token and userinfo), and
// the GitHub preset (plain OAuth 2: the identity comes from GitHub's user and emails API).

import * as client from 'openid-client';
import type { OAuthProviderConfig } from '../config/config.ts';

/** The provider's answer cannot be accepted (as opposed to openid-client's own errors, which say the same). */
export class OAuthAnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OAuthAnswerError';
  }
}

/** Who the provider says signed in. `emailVerified` is the provider's word that the address is theirs. */
export interface OAuthProfile {
  subject: string;
  email?: string;
  emailVerified: boolean;
}

/** The per-flow secrets that tie the callback to the request that started it. */
export interface OAuthChecks {
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface OAuthProvider {
  readonly name: string;
  authorizationUrl(redirectUri: string, checks: OAuthChecks): Promise<URL>;
  /** Validates the callback (state, code, PKCE, ID token and nonce) and reads the profile. */
  profile(callbackUrl: URL, checks: OAuthChecks): Promise<OAuthProfile>;
}

/** Plain HTTP is allowed only where the configuration allowed it: providers on this machine. */
function isLoopback(url: string): boolean {
  return new URL(url).protocol === 'http:';
}

class OidcProvider implements OAuthProvider {
  #config: Promise<client.Configuration> | undefined;

  constructor(private readonly settings: Extract<OAuthProviderConfig, { kind: 'oidc' }>) {}

  get name(): string {
    return this.settings.name;
  }

  /** Discovered on first use (not at start, so a provider that is down does not stop Galley), then cached. */
  private configuration(): Promise<client.Configuration> {
    const { issuer, clientId, clientSecret } = this.settings;
    this.#config ??= (async () => {
      const insecure = isLoopback(issuer) ? { execute: [client.allowInsecureRequests] } : undefined;
      const discovered = await client.discovery(new URL(issuer), clientId, clientSecret, undefined, insecure);
      // Discovery's default when the provider lists no methods is client_secret_basic (OpenID Connect Discovery §3).
      const methods = discovered.serverMetadata().token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
      const auth = methods.includes('client_secret_basic') ? client.ClientSecretBasic(clientSecret) : client.ClientSecretPost(clientSecret);
      const config = new client.Configuration(discovered.serverMetadata(), clientId, clientSecret, auth);
      if (insecure) client.allowInsecureRequests(config);
      return config;
    })();
    // A failed discovery is retried by the next sign-in rather than cached.
    this.#config.catch(() => (this.#config = undefined));
    return this.#config;
  }

  async authorizationUrl(redirectUri: string, checks: OAuthChecks): Promise<URL> {
    return client.buildAuthorizationUrl(await this.configuration(), {
      redirect_uri: redirectUri,
      scope: 'openid email profile',
      state: checks.state,
      nonce: checks.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: 'S256',
    });
  }

  async profile(callbackUrl: URL, checks: OAuthChecks): Promise<OAuthProfile> {
    const config = await this.configuration();
    const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: checks.codeVerifier,
      expectedState: checks.state,
      expectedNonce: checks.nonce,
    });
    const claims = tokens.claims()!;
    let { email, email_verified: verified } = claims as { email?: unknown; email_verified?: unknown };
    // Many providers put only `sub` in the ID token and the rest behind userinfo.
    if (typeof email !== 'string') {
      const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
      ({ email, email_verified: verified } = info);
    }
    return { subject: claims.sub, email: typeof email === 'string' ? email : undefined, emailVerified: verified === true };
  }
}

class GitHubProvider implements OAuthProvider {
  readonly name = 'github';
  readonly #config: client.Configuration;

  constructor(private readonly settings: Extract<OAuthProviderConfig, { kind: 'github' }>) {
    const { webUrl, clientId, clientSecret } = settings;
    this.#config = new client.Configuration(
      { issuer: webUrl, authorization_endpoint: `${webUrl}/login/oauth/authorize`, token_endpoint: `${webUrl}/login/oauth/access_token` },
      clientId,
      clientSecret,
      client.ClientSecretPost(clientSecret),
    );
    if (isLoopback(webUrl)) client.allowInsecureRequests(this.#config);
  }

  async authorizationUrl(redirectUri: string, checks: OAuthChecks): Promise<URL> {
    // GitHub has no ID token, so no nonce: state and PKCE protect the flow.
    return client.buildAuthorizationUrl(this.#config, {
      redirect_uri: redirectUri,
      scope: 'read:user user:email',
      state: checks.state,
      code_challenge: await client.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: 'S256',
    });
  }

  async profile(callbackUrl: URL, checks: OAuthChecks): Promise<OAuthProfile> {
    const tokens = await client.authorizationCodeGrant(this.#config, callbackUrl, { pkceCodeVerifier: checks.codeVerifier, expectedState: checks.state });
    const user = (await this.api(tokens.access_token, '/user')) as { id?: unknown };
    if (typeof user.id !== 'number' && typeof user.id !== 'string') throw new OAuthAnswerError('GitHub answered /user without an id');
    // The profile's public email may be unverified or absent; /user/emails says which address is primary and verified.
    const emails = (await this.api(tokens.access_token, '/user/emails')) as Array<{ email?: unknown; primary?: unknown; verified?: unknown }>;
    const primary = Array.isArray(emails) ? emails.find((e) => e.primary === true && typeof e.email === 'string') : undefined;
    return { subject: String(user.id), email: primary?.email as string | undefined, emailVerified: primary?.verified === true };
  }

  private async api(accessToken: string, path: string): Promise<unknown> {
    const headers = new Headers({ accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' });
    const res = await client.fetchProtectedResource(this.#config, accessToken, new URL(this.settings.apiUrl + path), 'GET', undefined, headers);
    if (!res.ok) throw new OAuthAnswerError(`GitHub answered ${path} with ${res.status}`);
    return res.json();
  }
}

export function createOAuthProvider(settings: OAuthProviderConfig): OAuthProvider {
  return settings.kind === 'github' ? new GitHubProvider(settings) : new OidcProvider(settings);
}
