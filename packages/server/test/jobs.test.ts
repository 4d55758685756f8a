// The job queue on real databases: jobs follow their transaction's fate, run once, retry with
// backoff, are kept when dead, survive a restart and a worker that dies mid-job, and run once
// across two workers sharing one PostgreSQL database.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { DEFAULT_JOB_OPTIONS, JobQueue, type JobQueueOptions } from '../src/core/jobs.ts';
import { connectDatabase } from '../src/db/connect.ts';
import type { Database } from '../src/db/database.ts';
import { migrateSystemTables } from '../src/db/system-schema.ts';
import { createPostgresDatabase, describeEachDialect, testDialects, type TestDialect } from '../src/testing/databases.ts';

const FAST: Omit<JobQueueOptions, 'onError'> = { ...DEFAULT_JOB_OPTIONS, pollMs: 50, leaseMs: 300, backoffMs: 20, maxAttempts: 3 };

interface Place {
  open(): Promise<Database>;
  drop(): Promise<void>;
}

/** One database that several connections (instances, restarts) can open. */
async function place(dialect: TestDialect): Promise<Place> {
  if (dialect === 'postgres') {
    const pg = await createPostgresDatabase();
    return {
      open: async () => {
        const db = connectDatabase({ databaseUrl: pg.url, dataDir: '/unused', poolSize: 4 });
        await migrateSystemTables(db);
        return db;
      },
      drop: () => pg.drop(),
    };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'galley-jobs-'));
  return {
    open: async () => {
      const db = connectDatabase({ dataDir: dir, poolSize: 1 });
      await migrateSystemTables(db);
      return db;
    },
    drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

function queue(db: Database, options: Partial<JobQueueOptions> = {}): JobQueue {
  return new JobQueue(db, { ...FAST, onError: () => {}, ...options });
}

async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

await describeEachDialect('jobs', (dialect) => {
  let where: Place;
  let db: Database;
  before(async () => {
    where = await place(dialect);
    db = await where.open();
  });
  after(async () => {
    await db.close();
    await where.drop();
  });

  test('a job runs once after its transaction commits, then is removed', async () => {
    const q = queue(db);
    const seen: unknown[] = [];
    q.register('echo', async (payload) => void seen.push(payload));
    await q.start();
    try {
      await db.transaction(async (tx) => {
        await q.enqueueIn(tx, 'echo', { n: 1 });
        await sleep(100);
        assert.deepEqual(seen, [], 'not before the commit');
      });
      q.wake();
      await until(() => seen.length === 1, 'the job');
      await until(async () => (await q.pending()) === 0, 'the row to go');
      assert.deepEqual(seen, [{ n: 1 }]);
    } finally {
      await q.stop();
    }
  });

  test('a stopped worker claims nothing until started again', async () => {
    const q = queue(db);
    const seen: unknown[] = [];
    q.register('held', async (payload) => void seen.push(payload));
    await q.start();
    try {
      await q.stop();
      await q.enqueue('held', { n: 1 });
      q.wake();
      await sleep(200);
      assert.deepEqual(seen, [], 'held while stopped');
      await q.start();
      await until(() => seen.length === 1, 'the job after the second start');
      assert.deepEqual(seen, [{ n: 1 }]);
    } finally {
      await q.stop();
    }
  });

  test('a job enqueued in a rolled-back transaction never exists', async () => {
    const q = queue(db);
    let ran = 0;
    q.register('never', async () => void ran++);
    await q.start();
    try {
      await assert.rejects(
        db.transaction(async (tx) => {
          await q.enqueueIn(tx, 'never', {});
          throw new Error('roll back');
        }),
        /roll back/,
      );
      q.wake();
      await sleep(200);
      assert.equal(ran, 0);
      assert.equal(await q.pending(), 0);
    } finally {
      await q.stop();
    }
  });

  test('a failing job is retried with growing delays, then kept as dead with its error', async () => {
    const q = queue(db, { backoffMs: 60 });
    const times: number[] = [];
    q.register('flaky', async () => {
      times.push(Date.now());
      throw new Error('still broken');
    });
    await q.start();
    try {
      await q.enqueue('flaky', { file: 'x' });
      await until(async () => (await q.dead()).length === 1, 'the job to die');
      assert.equal(times.length, 3, 'maxAttempts attempts');
      assert.ok(times[2]! - times[1]! >= times[1]! - times[0]! - 5, `backoff grows: ${times.map((t) => t - times[0]!)}`);
      const [dead] = await q.dead();
      assert.equal(dead!.kind, 'flaky');
      assert.deepEqual(dead!.payload, { file: 'x' });
      assert.equal(dead!.attempts, 3);
      assert.equal(dead!.lastError, 'still broken');
      assert.equal(await q.pending(), 0, 'dead jobs are not pending');
    } finally {
      await q.stop();
    }
  });

  test('a job that failed once succeeds on its retry', async () => {
    const q = queue(db);
    let calls = 0;
    q.register('once-broken', async () => {
      if (++calls === 1) throw new Error('transient');
    });
    await q.start();
    try {
      await q.enqueue('once-broken', {});
      await until(async () => calls === 2 && (await q.pending()) === 0, 'the retry');
    } finally {
      await q.stop();
    }
  });

  test('jobs survive a restart: enqueued by one process, run by the next', async () => {
    const first = queue(db);
    await first.enqueue('later', { id: 'survivor' });
    await db.close();
    db = await where.open();
    const second = queue(db);
    const seen: unknown[] = [];
    second.register('later', async (payload) => void seen.push(payload));
    await second.start();
    try {
      await until(() => seen.length === 1, 'the job after the restart');
      assert.deepEqual(seen, [{ id: 'survivor' }]);
    } finally {
      await second.stop();
    }
  });

  test('a worker that dies mid-job leaves its lease to lapse; another worker then runs the job', async () => {
    const dying = queue(db);
    let started = 0;
    // Never settles: the worker is "killed" while the job runs (its lease is not renewed either).
    dying.register('slow', () => {
      started++;
      return new Promise(() => {});
    });
    await dying.start();
    await dying.enqueue('slow', { n: 7 });
    await until(() => started === 1, 'the first claim');
    // The process "vanishes": it stops claiming (never finishing the stuck job), and the row no
    // longer names it, so its lease renewals stop matching and the lease runs out.
    void dying.stop();
    const p = db.dialect === 'postgres' ? '$1' : '?';
    await db.run(`UPDATE "_jobs" SET "locked_by" = ${p} WHERE "kind" = 'slow'`, ['vanished-worker']);
    const rescuer = queue(db);
    const seen: unknown[] = [];
    rescuer.register('slow', async (payload) => void seen.push(payload));
    await rescuer.start();
    try {
      await until(() => seen.length === 1, 'the rescue after the lease lapsed');
      assert.deepEqual(seen, [{ n: 7 }]);
      await until(async () => (await rescuer.pending()) === 0, 'the row to go');
    } finally {
      await rescuer.stop();
    }
  });

  test('a periodic job runs again after its interval and is queued only once however many workers start', async () => {
    const a = queue(db);
    const b = queue(db);
    let runs = 0;
    a.registerPeriodic('sweep', 150, async () => void runs++);
    b.registerPeriodic('sweep', 150, async () => void runs++);
    await a.start();
    await b.start();
    try {
      await until(() => runs >= 3, 'three sweeps');
      const p = db.dialect === 'postgres' ? '$1' : '?';
      const rows = await db.all(`SELECT "id" FROM "_jobs" WHERE "kind" = ${p}`, ['sweep']);
      assert.equal(rows.length, 1);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});

const { dialects } = await testDialects();
test('two instances on one PostgreSQL database run each of 200 jobs exactly once', { skip: dialects.includes('postgres') ? false : 'PostgreSQL not reachable' }, async () => {
  const where = await place('postgres');
  const dbA = await where.open();
  const dbB = await where.open();
  const runs = new Map<number, number>();
  const by = { a: 0, b: 0 };
  const handler = (who: 'a' | 'b') => async (payload: unknown) => {
    const n = (payload as { n: number }).n;
    runs.set(n, (runs.get(n) ?? 0) + 1);
    by[who]++;
    await sleep(2);
  };
  // A lease longer than any claim takes here: this test is about SKIP LOCKED, not lapsed leases.
  const a = queue(dbA, { concurrency: 4, leaseMs: 10_000 });
  const b = queue(dbB, { concurrency: 4, leaseMs: 10_000 });
  a.register('count', handler('a'));
  b.register('count', handler('b'));
  try {
    await dbA.transaction(async (tx) => {
      for (let n = 0; n < 200; n++) await a.enqueueIn(tx, 'count', { n });
    });
    await Promise.all([a.start(), b.start()]);
    await until(() => runs.size === 200, 'all 200 jobs', 20_000);
    await until(async () => (await a.pending()) === 0, 'the queue to empty');
    assert.ok([...runs.values()].every((count) => count === 1), `no job ran twice: ${JSON.stringify([...runs].filter(([, c]) => c > 1))}`);
    assert.ok(by.a > 0 && by.b > 0, `both instances worked: ${JSON.stringify(by)}`);
  } finally {
    await a.stop();
    await b.stop();
    await dbA.close();
    await dbB.close();
    await where.drop();
  }
});
