// Where the session token lives between calls: in memory, or in a storage the app hands over
// (localStorage, sessionStorage, React Native's AsyncStorage). Cookie mode keeps no token at all.

/** The part of the Web Storage API the SDK needs; async implementations are welcome. */
export interface TokenStorage {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}

const STORAGE_KEY = 'galley_session';

export class Session {
  /** undefined: not read from storage yet; null: no token. */
  private current: string | null | undefined;

  constructor(private readonly storage: TokenStorage | undefined) {
    if (!storage) this.current = null;
  }

  async token(): Promise<string | null> {
    if (this.current === undefined) this.current = (await this.storage!.getItem(STORAGE_KEY)) ?? null;
    return this.current;
  }

  async set(token: string | null): Promise<void> {
    this.current = token;
    if (!this.storage) return;
    if (token === null) await this.storage.removeItem(STORAGE_KEY);
    else await this.storage.setItem(STORAGE_KEY, token);
  }
}
