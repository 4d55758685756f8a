// `galley.apiKeys`: keys for servers and scripts (contract.md §3; superusers only). The secret is
// in `create`'s answer only; use it elsewhere with `createClient(url)` + `auth.setToken(secret)`.

import type { ApiKey, CreatedApiKey, NewApiKey } from '@galley/protocol';
import { apiPath, type Transport } from './transport.ts';

type Options = { signal?: AbortSignal };

export class ApiKeysApi {
  constructor(private readonly transport: Transport) {}

  /** A new key; keep `secret` now: it is never shown again. */
  create(input: NewApiKey, options: Options = {}): Promise<CreatedApiKey> {
    return this.transport.json<CreatedApiKey>('POST', apiPath('auth', 'api-keys'), { body: input, signal: options.signal });
  }

  /** Every key, newest first (expired ones too); never a secret. */
  async list(options: Options = {}): Promise<ApiKey[]> {
    return (await this.transport.json<{ items: ApiKey[] }>('GET', apiPath('auth', 'api-keys'), options)).items;
  }

  /** The key fails from its next request on. */
  async revoke(id: string, options: Options = {}): Promise<void> {
    await this.transport.send('DELETE', apiPath('auth', 'api-keys', id), options);
  }
}
