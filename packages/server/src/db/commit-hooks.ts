// The commit hooks of one transaction (Transaction.beforeCommit / afterCommit), shared by both
// adapters: each transaction gets a fresh handle, so per-transaction state can be keyed on it.

import type { Queryable, Transaction } from './database.ts';

export class CommitHooks {
  private readonly before: Array<() => Promise<void>> = [];
  private readonly after: Array<() => void | Promise<void>> = [];

  /** A fresh transaction handle over `queryable` whose hooks land here. */
  wrap(queryable: Queryable): Transaction {
    return {
      ...queryable,
      beforeCommit: (fn) => void this.before.push(fn),
      afterCommit: (fn) => void this.after.push(fn),
    };
  }

  /** Runs the before-commit hooks in order; a hook may register further ones, which run too. */
  async beforeCommit(): Promise<void> {
    for (let i = 0; i < this.before.length; i++) await this.before[i]!();
  }

  /** Runs the after-commit hooks in order, awaiting those that return a promise (none may reject). */
  async afterCommit(): Promise<void> {
    for (const fn of this.after) await fn();
  }
}
