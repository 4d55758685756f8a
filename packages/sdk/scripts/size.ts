// `npm run sdk:size`: the SDK as a frontend ships it — bundled for browsers, minified, gzipped —
// measured with esbuild. The size test holds it to the budget below. tus-js-client is left out: it
// is an optional peer that `files.upload` imports on first use, a chunk of its own in an app bundle.

import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const GZIP_BUDGET_BYTES = 8 * 1024;

const ENTRY = fileURLToPath(new URL('../src/index.ts', import.meta.url));

export async function measureSdk(): Promise<{ minified: number; gzip: number }> {
  const result = await build({ entryPoints: [ENTRY], bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent', external: ['tus-js-client'] });
  const code = result.outputFiles[0]!.contents;
  return { minified: code.byteLength, gzip: gzipSync(code, { level: 9 }).byteLength };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { minified, gzip } = await measureSdk();
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  process.stdout.write(`@galley/sdk: ${kb(minified)} minified, ${kb(gzip)} minified+gzip (budget ${kb(GZIP_BUDGET_BYTES)})\n`);
}
