// `npm test`: runs every suite with Node's test runner (through tsx), two files at a time.
// Fails when no test ran at all — a silent zero-test pass is the trap this guards against.
// A test (or file) that hangs fails after 10 minutes instead of holding CI until its own limit.

import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const roots = ['packages/expr/test', 'packages/protocol/test', 'packages/admin/test', 'packages/sdk/test', 'packages/server/test', 'bench/test'];
const only = process.argv.slice(2);

function collect(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out = out.concat(collect(full));
    else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

const files = roots.flatMap(collect).filter((f) => only.length === 0 || only.some((o) => f.includes(o))).sort();
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}

const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', '--test-reporter=spec', ...files], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let tail = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString()).slice(-4000);
});
child.on('close', (code) => {
  const count = (label) => Number(new RegExp(`ℹ ${label} (\\d+)`).exec(tail)?.[1] ?? 0);
  const tests = count('tests');
  const passed = count('pass');
  const failed = count('fail');
  const skipped = count('skipped');
  console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
  if (tests === 0) {
    console.error('run-tests: no test ran — failing on purpose');
    process.exit(1);
  }
  process.exit(code ?? 1);
});
