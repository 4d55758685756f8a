// The dashboard's budget, checked on every `npm test`: the JavaScript a first visit must load
// (the entry script and what it preloads) stays within 250 KB gzip, and index.html holds no inline
// code, which the server's Content-Security-Policy would refuse to run.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import zlib from 'node:zlib';
import { ADMIN_DIST, ensureAdminBuilt } from '../build/ensure-built.ts';

const BUDGET_GZIP_BYTES = 250 * 1024;

before(async () => {
  await ensureAdminBuilt();
});

function initialScripts(html: string): string[] {
  const urls = [...html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g), ...html.matchAll(/<link\b[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)].map((m) => m[1]!);
  return [...new Set(urls)];
}

test('initial JavaScript is at most 250 KB gzip', () => {
  const html = fs.readFileSync(path.join(ADMIN_DIST, 'index.html'), 'utf8');
  const scripts = initialScripts(html);
  assert.ok(scripts.length > 0, 'index.html loads the entry script');
  let total = 0;
  for (const url of scripts) {
    assert.match(url, /^\/admin\/assets\/[\w.-]+\.js$/, 'scripts come from /admin/assets');
    const file = path.join(ADMIN_DIST, url.slice('/admin/'.length));
    total += zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;
  }
  const kb = (total / 1024).toFixed(1);
  console.log(`dashboard initial JS: ${kb} KB gzip in ${scripts.length} file(s), budget 250 KB`);
  assert.ok(total <= BUDGET_GZIP_BYTES, `initial JS is ${kb} KB gzip, over the 250 KB budget`);
});

test('index.html has no inline script or style, and every asset name carries a content hash', () => {
  const html = fs.readFileSync(path.join(ADMIN_DIST, 'index.html'), 'utf8');
  for (const tag of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
    assert.match(tag[1]!, /\bsrc="/, 'every script is a file');
    assert.equal(tag[2]!.trim(), '', 'no inline script body');
  }
  assert.doesNotMatch(html, /<style\b|\sstyle="|\son[a-z]+="/i, 'no inline style or event handler');
  const assets = fs.readdirSync(path.join(ADMIN_DIST, 'assets')).filter((name) => !/\.(br|gz)$/.test(name));
  assert.ok(assets.length > 0);
  for (const name of assets) {
    assert.match(name, /-[A-Za-z0-9_-]{8,}\.\w+$/, `${name} is content-hashed`);
    assert.ok(fs.existsSync(path.join(ADMIN_DIST, 'assets', `${name}.br`)), `${name}.br is precompressed`);
  }
});
