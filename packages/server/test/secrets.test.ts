// The server secret: generated once, kept in the database, the same after a restart and for every
// instance; GALLEY_SECRET wins; each purpose gets its own key.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { createApp } from '../src/app.ts';
import { ConfigError, loadConfig } from '../src/config/config.ts';
import { ServerSecret } from '../src/core/secrets.ts';
import { describeEachDialect } from '../src/testing/databases.ts';
import { createTestApp } from '../src/testing/test-app.ts';

await describeEachDialect('server secret', (dialect) => {
  test('generated once and the same for a second start on the same database', async () => {
    const first = await createTestApp(dialect);
    try {
      const config = loadConfig(first.app.config.databaseUrl ? { DATABASE_URL: first.app.config.databaseUrl } : {}, ['--port', '0', '--dir', first.app.config.dataDir]);
      // SQLite allows one open app per file here; a second PostgreSQL instance runs alongside.
      const key = first.app.services.secret.key('test');
      if (dialect === 'sqlite') await first.app.close();
      const second = await createApp(config, { logger: pino({ level: 'silent' }) });
      try {
        assert.deepEqual(second.services.secret.key('test'), key);
      } finally {
        await second.close();
      }
    } finally {
      await first.close();
    }
  });
});

test('GALLEY_SECRET wins, and must be long enough', () => {
  assert.equal(loadConfig({ GALLEY_SECRET: 'x'.repeat(32) }, []).secret, 'x'.repeat(32));
  assert.throws(() => loadConfig({ GALLEY_SECRET: 'short' }, []), ConfigError);
});

test('each purpose derives its own 32-byte key', () => {
  const s = new ServerSecret(Buffer.from('root key material, long enough to be a secret'));
  assert.equal(s.key('a').length, 32);
  assert.notDeepEqual(s.key('a'), s.key('b'));
  assert.deepEqual(s.key('a'), new ServerSecret(Buffer.from('root key material, long enough to be a secret')).key('a'));
});
