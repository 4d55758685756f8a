// The SDK stays small enough for any frontend: minified+gzip under the budget (see `npm run sdk:size`).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GZIP_BUDGET_BYTES, measureSdk } from '../scripts/size.ts';

test(`the browser bundle is under ${GZIP_BUDGET_BYTES / 1024} KB minified+gzip`, async () => {
  const { gzip } = await measureSdk();
  assert.ok(gzip < GZIP_BUDGET_BYTES, `${gzip} bytes`);
});
