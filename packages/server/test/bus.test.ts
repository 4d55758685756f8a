// The Bus contract, against each implementation that can carry messages between instances:
// PostgreSQL NOTIFY/LISTEN and Redis pub/sub. A message reaches every subscriber of its channel on
// every instance, in order, and nothing else; Redis channels are scoped by the key prefix.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Bus } from '../src/bus/bus.ts';
import { DatabaseBus } from '../src/bus/database-bus.ts';
import { RedisBus } from '../src/bus/redis-bus.ts';
import { pino } from 'pino';
import { Metrics } from '../src/core/metrics.ts';
import { instrumentDatabase } from '../src/db/instrumented.ts';
import { PostgresDatabase } from '../src/db/postgres.ts';
import { createPostgresDatabase, testDialects } from '../src/testing/databases.ts';
import { redisSkipReason, REDIS_TEST_URL, uniqueRedisPrefix } from '../src/testing/redis.ts';

const { dialects, skipReason: pgSkip } = await testDialects();
const redisSkip = await redisSkipReason();

interface Pair {
  one: Bus;
  other: Bus;
  /** A bus on the same backend that must not hear the pair (another deployment), when there is one. */
  stranger?: Bus;
  close(): Promise<void>;
}

const implementations: Array<{ name: string; skip: string | false; make(): Promise<Pair> }> = [
  {
    name: 'PostgreSQL NOTIFY',
    skip: dialects.includes('postgres') ? false : pgSkip!,
    async make() {
      const pg = await createPostgresDatabase();
      const a = new PostgresDatabase({ connectionString: pg.url, max: 2 });
      const b = new PostgresDatabase({ connectionString: pg.url, max: 2 });
      return { one: new DatabaseBus(a), other: new DatabaseBus(b), close: async () => { await a.close(); await b.close(); await pg.drop(); } };
    },
  },
  {
    // As createApp wires it: the bus over the database that times every statement.
    name: 'PostgreSQL NOTIFY, instrumented database',
    skip: dialects.includes('postgres') ? false : pgSkip!,
    async make() {
      const pg = await createPostgresDatabase();
      const instrument = (db: PostgresDatabase) => instrumentDatabase(db, { metrics: new Metrics(), logger: pino({ level: 'silent' }), slowQueryMs: 0 });
      const a = instrument(new PostgresDatabase({ connectionString: pg.url, max: 2 }));
      const b = instrument(new PostgresDatabase({ connectionString: pg.url, max: 2 }));
      return { one: new DatabaseBus(a), other: new DatabaseBus(b), close: async () => { await a.close(); await b.close(); await pg.drop(); } };
    },
  },
  {
    name: 'Redis pub/sub',
    skip: redisSkip ?? false,
    async make() {
      const prefix = uniqueRedisPrefix();
      const buses = [new RedisBus(REDIS_TEST_URL, prefix, () => {}), new RedisBus(REDIS_TEST_URL, prefix, () => {}), new RedisBus(REDIS_TEST_URL, uniqueRedisPrefix(), () => {})];
      await Promise.all(buses.map((b) => b.connect()));
      return { one: buses[0]!, other: buses[1]!, stranger: buses[2], close: async () => void (await Promise.all(buses.map((b) => b.close()))) };
    },
  },
];

for (const impl of implementations) {
  describe(`bus: ${impl.name}`, () => {
    test('messages reach every instance on their channel, in order, and no other channel', { skip: impl.skip }, async () => {
      const pair = await impl.make();
      try {
        const heard: Record<string, string[]> = { one: [], other: [], otherChannel: [], stranger: [] };
        await pair.one.subscribe('galley_test_a', (m) => m !== undefined && heard.one!.push(m));
        await pair.other.subscribe('galley_test_a', (m) => m !== undefined && heard.other!.push(m));
        await pair.other.subscribe('galley_test_b', (m) => m !== undefined && heard.otherChannel!.push(m));
        await pair.stranger?.subscribe('galley_test_a', (m) => m !== undefined && heard.stranger!.push(m));
        for (const m of ['1', '2', '3']) await pair.one.publish('galley_test_a', m);
        const deadline = Date.now() + 5000;
        while ((heard.one!.length < 3 || heard.other!.length < 3) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(heard.other, ['1', '2', '3']);
        assert.deepEqual(heard.one, ['1', '2', '3'], 'the publishing instance hears itself too');
        await pair.other.publish('galley_test_b', 'b');
        while (heard.otherChannel!.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(heard.otherChannel, ['b']);
        assert.deepEqual(heard.stranger, [], 'another prefix is another deployment');
      } finally {
        await pair.close();
      }
    });
  });
}
