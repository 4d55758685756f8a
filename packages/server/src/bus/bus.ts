// The Bus port: short wake-up messages between the instances sharing one database ("the change
// log moved", "a session ended"). Nothing depends on a message arriving: each consumer can recover
// from the database, so a message lost in a reconnect costs latency, never correctness.

export interface Bus {
  /** Sends `message` on `channel` to every instance (this one included, where the bus loops back). */
  publish(channel: string, message: string): Promise<void>;
  /**
   * Calls `listener` for every message on `channel`, and with undefined after the bus reconnected
   * (messages may have been missed meanwhile).
   */
  subscribe(channel: string, listener: (message: string | undefined) => void): Promise<void>;
  close(): Promise<void>;
}

/** The channels Galley uses. */
export const BUS_CHANNELS = {
  /** The change log grew; the message names the instance that says so. */
  changes: 'galley_changes',
  /** Sessions ended; the message says which (core/auth.ts SessionsEnded as JSON). */
  sessions: 'galley_sessions',
} as const;
