// `galley.auth.sessions`: the signed-in user's sessions (contract.md §3): list them (device,
// address, created, last seen) and revoke one — the current one too, which is a logout.

import type { SessionInfo } from '@galley/protocol';
import { apiPath, type Transport } from './transport.ts';

type Options = { signal?: AbortSignal };

export class SessionsApi {
  constructor(private readonly transport: Transport) {}

  /** Most recently used first; `current` marks the one making the call. */
  async list(options: Options = {}): Promise<SessionInfo[]> {
    return (await this.transport.json<{ items: SessionInfo[] }>('GET', apiPath('auth', 'sessions'), options)).items;
  }

  /** Ends a session at once (its realtime connections close too). Revoking the current one drops the kept token. */
  async revoke(id: string, options: Options = {}): Promise<void> {
    const current = (await this.list(options)).find((s) => s.current)?.id;
    await this.transport.send('DELETE', apiPath('auth', 'sessions', id), options);
    if (id === current) await this.transport.session.set(null);
  }
}
