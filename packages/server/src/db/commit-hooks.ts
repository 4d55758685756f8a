// The commit hooks of one transaction (Transaction.beforeCommit / afterCommit), shared by both
// adapters: each transaction gets a fresh handle, so per-transaction state can be keyed on it.

import type { Queryable, Statement, Transaction } from './database.ts';

export class CommitHooks {
  private readonly before: Array<() => Promise<void>> = [];
  private readonly after: Array<() => void | Promise<void>> = [];
  private last: (() => Statement) | undefined;

  /** A fresh transaction handle over `queryable` whose hooks land here; `runDeferred` is the adapter's. */
  wrap(queryable: Queryable, runDeferred: Transaction['runDeferred']): Transaction {
    return {
      ...queryable,
      runDeferred,
      beforeCommit: (fn) => void this.before.push(fn),
      afterCommit: (fn) => void this.after.push(fn),
      commitWith: (build) => {
        if (this.last) throw new Error('a transaction has at most one commitWith statement');
        this.last = build;
      },
    };
  }

  /** Runs the before-commit hooks in order; a hook may register further ones, which run too. */
  async beforeCommit(): Promise<void> {
    for (let i = 0; i < this.before.length; i++) await this.before[i]!();
  }

  /** The statement to send with COMMIT, built now (after the before-commit hooks), if one was given. */
  lastStatement(): Statement | undefined {
    return this.last?.();
  }

  /** Runs the after-commit hooks in order, awaiting those that return a promise (none may reject). */
  async afterCommit(): Promise<void> {
    for (const fn of this.after) await fn();
  }
}
