// Configuration: environment and flags become one typed config, with clear errors for bad values.

import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/config.ts';

test('defaults: 127.0.0.1:8090, ./galley_data, SQLite, the public URL as the only allowed origin', () => {
  const c = loadConfig({}, [], '/srv/app');
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 8090);
  assert.equal(c.dataDir, path.resolve('/srv/app/galley_data'));
  assert.equal(c.databaseUrl, undefined);
  assert.equal(c.publicUrl, 'http://127.0.0.1:8090');
  assert.deepEqual(c.allowedOrigins, ['http://127.0.0.1:8090']);
  assert.equal(c.bodyLimit, 10 * 1024 * 1024);
  assert.deepEqual(c.storage, { kind: 'local', dir: path.resolve('/srv/app/galley_data/storage') });
});

test('STORAGE_URL names an S3 bucket; a bad one is a ConfigError', () => {
  const c = loadConfig({ STORAGE_URL: 's3://files-bucket?region=eu-central-1', AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'example' }, [], '/');
  assert.equal(c.storage.kind, 's3');
  assert.throws(() => loadConfig({ STORAGE_URL: 'http://files' }, [], '/'), ConfigError);
});

test('flags win over the environment', () => {
  const c = loadConfig({ PORT: '1000', HOST: '0.0.0.0', GALLEY_DATA_DIR: '/env' }, ['--port', '2000', '--host=::1', '--dir', '/flag'], '/');
  assert.equal(c.port, 2000);
  assert.equal(c.host, '::1');
  assert.equal(c.dataDir, '/flag');
});

test('origins, public URL, database URL and admin', () => {
  const c = loadConfig({
    GALLEY_PUBLIC_URL: 'https://api.example.com/',
    GALLEY_ALLOWED_ORIGINS: 'https://a.example, https://b.example',
    DATABASE_URL: 'postgres://u@db/x',
    GALLEY_ADMIN_EMAIL: 'a@b.co',
    GALLEY_ADMIN_PASSWORD: 'pw123456',
  }, []);
  assert.equal(c.publicUrl, 'https://api.example.com');
  assert.deepEqual(c.allowedOrigins, ['https://a.example', 'https://b.example']);
  assert.equal(c.databaseUrl, 'postgres://u@db/x');
  assert.deepEqual(c.admin, { email: 'a@b.co', password: 'pw123456' });
});

test('bad values are refused with a message naming the setting', () => {
  assert.throws(() => loadConfig({ PORT: '70000' }, []), (e) => e instanceof ConfigError && /PORT/.test(e.message));
  assert.throws(() => loadConfig({ DATABASE_URL: 'mysql://x' }, []), /DATABASE_URL/);
  assert.throws(() => loadConfig({ GALLEY_BODY_LIMIT: '-5' }, []), /GALLEY_BODY_LIMIT/);
  assert.throws(() => loadConfig({ GALLEY_ADMIN_EMAIL: 'a@b.co' }, []), /GALLEY_ADMIN_PASSWORD/);
  assert.throws(() => loadConfig({ GALLEY_PUBLIC_URL: 'not a url' }, []), /GALLEY_PUBLIC_URL/);
});
