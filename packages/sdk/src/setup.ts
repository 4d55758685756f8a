// `galley.setup`: the first run (docs/accounts.md). While no superuser exists, `needsSuperuser()`
// is true and `createSuperuser` creates one and signs in — accepted from the server's own machine,
// or elsewhere with the one-time token the server printed in its log.

import type { AuthResponse, SetupRequest, SetupStatus } from '@galley/protocol';
import { GalleyError } from './errors.ts';
import type { Transport } from './transport.ts';

type Options = { signal?: AbortSignal };

export class SetupApi {
  constructor(private readonly transport: Transport) {}

  /** False once a superuser exists (the server then answers 404). */
  async needsSuperuser(options: Options = {}): Promise<boolean> {
    try {
      return (await this.transport.json<SetupStatus>('GET', '/api/v1/setup', options)).needsSuperuser;
    } catch (err) {
      if (err instanceof GalleyError && err.status === 404) return false;
      throw err;
    }
  }

  /** 409 once a superuser exists; 403 from elsewhere without the right token; 400 for a weak password. */
  async createSuperuser(input: SetupRequest, options: Options = {}): Promise<AuthResponse> {
    const session = await this.transport.json<AuthResponse>('POST', '/api/v1/setup', { body: input, signal: options.signal });
    if (!this.transport.cookies) await this.transport.session.set(session.token);
    return session;
  }
}
