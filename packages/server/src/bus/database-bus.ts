// The Bus over the database itself: PostgreSQL NOTIFY/LISTEN, so several instances need nothing
// but their shared PostgreSQL. On SQLite (one process) messages go nowhere: in-process consumers
// are told directly by the code that made the change.

import type { Database } from '../db/database.ts';
import type { Bus } from './bus.ts';

export class DatabaseBus implements Bus {
  constructor(private readonly db: Database) {}

  publish(channel: string, message: string): Promise<void> {
    return this.db.notify(channel, message);
  }

  subscribe(channel: string, listener: (message: string | undefined) => void): Promise<void> {
    return this.db.listen(channel, listener);
  }

  async close(): Promise<void> {
    // The listening connection belongs to the database adapter, which closes it.
  }
}
