// Where webhooks may send: the default refusal of private, loopback, link-local, unique-local and
// reserved addresses (IPv4, IPv6, IPv4-mapped), what GALLEY_WEBHOOK_ALLOW opens, the connect-time
// lookup that checks the very address a socket would use, and the configuration's parsing.

import assert from 'node:assert/strict';
import dns from 'node:dns';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/config.ts';
import { WebhookTargets } from '../src/core/webhook-targets.ts';

const lookup = (targets: WebhookTargets, host: string) =>
  new Promise<{ err: (Error & { code?: string }) | null; addresses: dns.LookupAddress[] }>((resolve) =>
    targets.lookup(host, { all: true }, (err, addresses) => resolve({ err: err as (Error & { code?: string }) | null, addresses: (addresses ?? []) as unknown as dns.LookupAddress[] })),
  );

test('by default only public addresses are allowed', () => {
  const targets = new WebhookTargets([]);
  const refused = [
    '10.0.0.1', '10.255.255.255', '172.16.0.1', '172.31.255.254', '192.168.0.1', '127.0.0.1', '127.8.9.10', '169.254.169.254', '100.64.0.1', '0.0.0.0',
    '224.0.0.1', '255.255.255.255', '198.18.0.1', '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456:789a::1', 'ff02::1', '::ffff:10.0.0.1', '::ffff:127.0.0.1',
    '::ffff:7f00:1', '::ffff:169.254.169.254', '64:ff9b::a00:1', '2002:a00:1::1',
  ];
  for (const address of refused) assert.equal(targets.allowsAddress(address), false, address);
  for (const address of ['93.184.216.34', '1.1.1.1', '172.32.0.1', '11.0.0.1', '2606:4700:4700::1111', '::ffff:1.1.1.1']) assert.equal(targets.allowsAddress(address), true, address);
});

test('GALLEY_WEBHOOK_ALLOW opens addresses, ranges and host names; * opens everything', () => {
  const targets = new WebhookTargets(['127.0.0.1', '10.1.0.0/16', 'fd00::/8', 'hooks.internal']);
  assert.equal(targets.allowsAddress('127.0.0.1'), true);
  assert.equal(targets.allowsAddress('::ffff:127.0.0.1'), true, 'the IPv4-mapped form of an allowed address');
  assert.equal(targets.allowsAddress('127.0.0.2'), false);
  assert.equal(targets.allowsAddress('10.1.200.3'), true);
  assert.equal(targets.allowsAddress('10.2.0.1'), false);
  assert.equal(targets.allowsAddress('fd12::1'), true);
  assert.equal(targets.allowsAddress('fc00::1'), false);
  assert.equal(targets.allowsAddress('192.168.1.1', 'hooks.internal'), true, 'a listed host name may resolve anywhere');
  assert.equal(targets.allowsAddress('192.168.1.1', 'other.internal'), false);
  const any = new WebhookTargets(['*']);
  assert.equal(any.allowsAddress('127.0.0.1'), true);
  assert.equal(any.allowsAddress('fe80::1'), true);
});

test('URLs are checked at creation: scheme, credentials, literal addresses and resolved names', async () => {
  const targets = new WebhookTargets([]);
  assert.equal(await targets.problemWith('https://93.184.216.34/hook'), undefined);
  assert.match((await targets.problemWith('not a url'))!, /absolute/);
  assert.match((await targets.problemWith('file:///etc/passwd'))!, /http/);
  assert.match((await targets.problemWith('https://u:p@93.184.216.34/'))!, /credentials/);
  assert.match((await targets.problemWith('http://[::1]:8080/'))!, /private or reserved/);
  assert.match((await targets.problemWith('http://localhost:8080/'))!, /resolves to a private or reserved address/);
  assert.match((await targets.problemWith('http://galley-test.invalid/'))!, /does not resolve/);
  assert.equal(await new WebhookTargets(['localhost']).problemWith('http://localhost:8080/'), undefined);
});

test('the connect-time lookup refuses a name that resolves to a refused address, and passes allowed ones through', async () => {
  const refused = await lookup(new WebhookTargets([]), 'localhost');
  assert.equal(refused.err?.code, 'ERR_WEBHOOK_TARGET_REFUSED');
  assert.match(refused.err!.message, /localhost resolves to a private or reserved address/);
  const allowed = await lookup(new WebhookTargets(['localhost']), 'localhost');
  assert.equal(allowed.err, null);
  assert.ok(allowed.addresses.length > 0 && allowed.addresses.every((a) => a.address === '127.0.0.1' || a.address === '::1'));
  // Single-address form, as sockets without autoSelectFamily ask.
  const single = await new Promise<{ err: unknown; address: string }>((resolve) =>
    new WebhookTargets(['localhost']).lookup('localhost', {}, (err, address) => resolve({ err, address: address as string })),
  );
  assert.equal(single.err, null);
  assert.ok(['127.0.0.1', '::1'].includes(single.address));
});

test('configuration: the allow list and the retry schedule are validated', () => {
  const config = loadConfig({ GALLEY_WEBHOOK_ALLOW: ' 127.0.0.1, 10.0.0.0/8 ,Hooks.Internal,::1,fd00::/8', GALLEY_WEBHOOK_RETRY_SECONDS: '0.5,2' }, []);
  assert.deepEqual(config.webhooks.allow, ['127.0.0.1', '10.0.0.0/8', 'hooks.internal', '::1', 'fd00::/8']);
  assert.deepEqual(config.webhooks.retryDelaysMs, [500, 2000]);
  const defaults = loadConfig({}, []).webhooks;
  assert.deepEqual(defaults, { allow: [], retryDelaysMs: [30_000, 120_000, 600_000, 3_600_000, 10_800_000, 21_600_000, 43_200_000], timeoutMs: 10_000, disableAfter: 5 });
  for (const allow of ['10.0.0.0/33', 'fd00::/129', '10.0.0/8', 'http://x', 'a b', '1.2.3.4/8/9']) {
    assert.throws(() => loadConfig({ GALLEY_WEBHOOK_ALLOW: allow }, []), ConfigError, allow);
  }
  for (const retry of ['', '0', '-1', 'soon', '1,,2']) assert.throws(() => loadConfig({ GALLEY_WEBHOOK_RETRY_SECONDS: retry }, []), ConfigError, retry);
  assert.throws(() => loadConfig({ GALLEY_WEBHOOK_TIMEOUT_SECONDS: '0' }, []), ConfigError);
  assert.throws(() => loadConfig({ GALLEY_WEBHOOK_DISABLE_AFTER: '0' }, []), ConfigError);
});
