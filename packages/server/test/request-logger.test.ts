// The lazy per-request logger: lines at enabled levels carry the request's bindings; lines below the
// level write nothing and make no pino child at all.

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { lazyRequestLogger } from '../src/http/request-logger.ts';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const parent = pino({ level, base: undefined }, stream);
  let children = 0;
  // pino children inherit from their parent: count with `this`, so a child's own child() still works.
  const original = parent.child;
  parent.child = function (this: typeof parent, ...args: Parameters<typeof original>) {
    children++;
    return original.apply(this, args);
  } as typeof parent.child;
  return { parent, lines, children: () => children };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

test('below the level nothing is written and no child is made; at the level the line carries the bindings', async () => {
  const { parent, lines, children } = capture('warn');
  const log = lazyRequestLogger(parent, { requestId: 'r-1' }, {});
  log.info('not written');
  log.debug({ a: 1 }, 'nor this');
  await flush();
  assert.equal(children(), 0);
  assert.equal(lines.length, 0);
  log.warn({ detail: 'x' }, 'written');
  log.error('also written');
  await flush();
  assert.equal(children(), 1, 'one child, made on the first line and reused');
  assert.deepEqual(lines.map((l) => [l.requestId, l.msg]), [['r-1', 'written'], ['r-1', 'also written']]);
  assert.equal(lines[0]!.detail, 'x');
});

test('a route-level log level from Fastify wins over the parent level', async () => {
  const { parent, lines } = capture('warn');
  const log = lazyRequestLogger(parent, { requestId: 'r-2' }, { level: 'debug' });
  assert.equal(log.level, 'debug');
  log.debug('route debugging');
  await flush();
  assert.deepEqual(lines.map((l) => l.msg), ['route debugging']);
});

test('silent writes nothing; child() and level changes reach the real logger', async () => {
  const { parent, lines } = capture('info');
  const log = lazyRequestLogger(parent, { requestId: 'r-3' }, {});
  log.level = 'silent';
  log.fatal('gone');
  const nested = log.child({ part: 'db' });
  nested.level = 'info';
  nested.info('nested');
  await flush();
  assert.deepEqual(lines.map((l) => [l.requestId, l.part, l.msg]), [['r-3', 'db', 'nested']]);
});
