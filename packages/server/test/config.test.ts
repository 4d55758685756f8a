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
  assert.throws(() => loadConfig({ GALLEY_REALTIME_FLUSH_MS: '5000' }, []), (e) => e instanceof ConfigError && /GALLEY_REALTIME_FLUSH_MS/.test(e.message));
  assert.equal(loadConfig({ GALLEY_REALTIME_FLUSH_MS: '0' }, []).realtime.flushIntervalMs, 0);
  assert.throws(() => loadConfig({ DATABASE_URL: 'mysql://x' }, []), /DATABASE_URL/);
  assert.throws(() => loadConfig({ GALLEY_BODY_LIMIT: '-5' }, []), /GALLEY_BODY_LIMIT/);
  assert.throws(() => loadConfig({ GALLEY_ADMIN_EMAIL: 'a@b.co' }, []), /GALLEY_ADMIN_PASSWORD/);
  assert.throws(() => loadConfig({ GALLEY_PUBLIC_URL: 'not a url' }, []), /GALLEY_PUBLIC_URL/);
});

test('operations settings: slow query threshold, metrics token, read cache size', () => {
  const defaults = loadConfig({}, [], '/');
  assert.equal(defaults.slowQueryMs, 500);
  assert.equal(defaults.metricsToken, undefined);
  assert.equal(defaults.readCacheEntries, 1000);
  const set = loadConfig({ GALLEY_SLOW_QUERY_MS: '0', GALLEY_METRICS_TOKEN: 'a'.repeat(16), GALLEY_READ_CACHE_ENTRIES: '0' }, [], '/');
  assert.deepEqual([set.slowQueryMs, set.metricsToken, set.readCacheEntries], [0, 'a'.repeat(16), 0]);
  assert.throws(() => loadConfig({ GALLEY_SLOW_QUERY_MS: '-1' }, []), /GALLEY_SLOW_QUERY_MS/);
  assert.throws(() => loadConfig({ GALLEY_READ_CACHE_ENTRIES: 'lots' }, []), /GALLEY_READ_CACHE_ENTRIES/);
  assert.throws(() => loadConfig({ GALLEY_METRICS_TOKEN: 'short' }, []), /GALLEY_METRICS_TOKEN/);
});

test('OAuth providers: GALLEY_OAUTH_<NAME>_* by lower-cased name, GitHub as a preset', () => {
  const c = loadConfig({
    GALLEY_OAUTH_GOOGLE_ISSUER: 'https://accounts.google.com',
    GALLEY_OAUTH_GOOGLE_CLIENT_ID: 'g-id',
    GALLEY_OAUTH_GOOGLE_CLIENT_SECRET: 'g-secret',
    GALLEY_OAUTH_MY_IDP_ISSUER: 'https://idp.example.com/realms/x/',
    GALLEY_OAUTH_MY_IDP_CLIENT_ID: 'm-id',
    GALLEY_OAUTH_MY_IDP_CLIENT_SECRET: 'm-secret',
    GALLEY_OAUTH_GITHUB_CLIENT_ID: 'gh-id',
    GALLEY_OAUTH_GITHUB_CLIENT_SECRET: 'gh-secret',
  }, []);
  assert.deepEqual(c.oauthProviders, [
    { kind: 'github', name: 'github', clientId: 'gh-id', clientSecret: 'gh-secret', webUrl: 'https://github.com', apiUrl: 'https://api.github.com' },
    { kind: 'oidc', name: 'google', issuer: 'https://accounts.google.com', clientId: 'g-id', clientSecret: 'g-secret' },
    // The issuer is kept exactly as given: it must match the provider's discovery document.
    { kind: 'oidc', name: 'my_idp', issuer: 'https://idp.example.com/realms/x/', clientId: 'm-id', clientSecret: 'm-secret' },
  ]);
  assert.deepEqual(loadConfig({}, []).oauthProviders, []);
  assert.equal(loadConfig({}, []).mfaIssuer, 'Galley');
});

test('OAuth providers: incomplete or insecure settings are refused', () => {
  assert.throws(() => loadConfig({ GALLEY_OAUTH_X_ISSUER: 'https://x.example', GALLEY_OAUTH_X_CLIENT_ID: 'id' }, []), /GALLEY_OAUTH_X_CLIENT_SECRET/);
  assert.throws(() => loadConfig({ GALLEY_OAUTH_X_CLIENT_ID: 'id', GALLEY_OAUTH_X_CLIENT_SECRET: 's' }, []), /GALLEY_OAUTH_X_ISSUER/);
  assert.throws(() => loadConfig({ GALLEY_OAUTH_X_ISSUER: 'http://idp.example', GALLEY_OAUTH_X_CLIENT_ID: 'id', GALLEY_OAUTH_X_CLIENT_SECRET: 's' }, []), /https/);
  assert.throws(() => loadConfig({ GALLEY_OAUTH_X_ISSUER: 'nope', GALLEY_OAUTH_X_CLIENT_ID: 'id', GALLEY_OAUTH_X_CLIENT_SECRET: 's' }, []), /not a URL/);
  assert.throws(() => loadConfig({ GALLEY_OAUTH_1X_ISSUER: 'https://x.example', GALLEY_OAUTH_1X_CLIENT_ID: 'id', GALLEY_OAUTH_1X_CLIENT_SECRET: 's' }, []), /start with a letter/);
  const local = loadConfig({ GALLEY_OAUTH_DEV_ISSUER: 'http://127.0.0.1:9000', GALLEY_OAUTH_DEV_CLIENT_ID: 'id', GALLEY_OAUTH_DEV_CLIENT_SECRET: 's' }, []);
  assert.equal(local.oauthProviders[0]!.name, 'dev', 'plain http is fine on this machine');
});
