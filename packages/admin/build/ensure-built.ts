// Builds the dashboard into dist/ when its sources changed since the last build, so `npm start`,
// `npm test` and a fresh clone all get a current /admin without a build step anyone must remember.
// Run directly (`npm run build -w packages/admin`, or the root `prestart`) or call ensureAdminBuilt().

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

const ADMIN_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = path.dirname(ADMIN_ROOT);
/** The built dashboard: index.html and assets/ (content-hashed names, each with .br and .gz beside it). */
export const ADMIN_DIST = path.join(ADMIN_ROOT, 'dist');
const STAMP = path.join(ADMIN_DIST, '.source-hash');
const LOCK = path.join(ADMIN_ROOT, '.build-lock');

/** Everything the bundle is made from: the dashboard and the workspace packages it imports. */
const INPUTS = [
  path.join(ADMIN_ROOT, 'src'),
  path.join(ADMIN_ROOT, 'index.html'),
  path.join(ADMIN_ROOT, 'vite.config.ts'),
  path.join(ADMIN_ROOT, 'package.json'),
  path.join(PACKAGES, 'sdk', 'src'),
  path.join(PACKAGES, 'protocol', 'src'),
];

function listFiles(entry: string): string[] {
  const stat = fs.statSync(entry, { throwIfNoEntry: false });
  if (!stat) return [];
  if (!stat.isDirectory()) return [entry];
  return fs.readdirSync(entry).sort().flatMap((name) => listFiles(path.join(entry, name)));
}

/** A digest of the inputs' paths and contents (not mtimes: a fresh clone has new mtimes, same sources). */
export function sourceHash(): string {
  const hash = crypto.createHash('sha256');
  for (const file of INPUTS.flatMap(listFiles)) hash.update(path.relative(PACKAGES, file)).update('\0').update(fs.readFileSync(file)).update('\0');
  return hash.digest('hex');
}

function isCurrent(hash: string): boolean {
  return fs.existsSync(path.join(ADMIN_DIST, 'index.html')) && fs.existsSync(STAMP) && fs.readFileSync(STAMP, 'utf8') === hash;
}

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/** Writes file.br and file.gz next to each asset, so the server sends them without compressing per request. */
async function precompress(dir: string): Promise<void> {
  for (const file of listFiles(path.join(dir, 'assets'))) {
    const body = fs.readFileSync(file);
    fs.writeFileSync(`${file}.br`, await brotli(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }));
    fs.writeFileSync(`${file}.gz`, await gzip(body, { level: 9 }));
  }
}

async function runViteBuild(outDir: string): Promise<void> {
  // Imported here: a server that only serves an existing build never loads Vite.
  const { build } = await import('vite');
  await build({ root: ADMIN_ROOT, configFile: path.join(ADMIN_ROOT, 'vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  await precompress(outDir);
}

/** Takes the build lock (a directory: creating one is atomic), waiting while another process holds it. */
async function withLock<T>(work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A lock left by a killed build is older than any real build takes.
      const age = Date.now() - (fs.statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 120_000) fs.rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`the dashboard build lock ${LOCK} is held too long`);
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    return await work();
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

/**
 * Builds dist/ unless it already matches the sources; safe to call from several processes at once.
 * Resolves to whether a build ran. The new build is made beside dist/ and swapped in whole.
 */
export async function ensureAdminBuilt(options: { force?: boolean } = {}): Promise<boolean> {
  if (!options.force && isCurrent(sourceHash())) return false;
  return withLock(async () => {
    const hash = sourceHash();
    if (!options.force && isCurrent(hash)) return false;
    const staging = `${ADMIN_DIST}.staging-${process.pid}`;
    try {
      await runViteBuild(staging);
      fs.writeFileSync(path.join(staging, '.source-hash'), hash);
      fs.rmSync(ADMIN_DIST, { recursive: true, force: true });
      fs.renameSync(staging, ADMIN_DIST);
    } finally {
      fs.rmSync(staging, { recursive: true, force: true });
    }
    return true;
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  ensureAdminBuilt({ force: process.argv.includes('--force') }).then(
    (built) => console.log(built ? `dashboard built into ${path.relative(process.cwd(), ADMIN_DIST)} in ${Date.now() - started} ms` : 'dashboard build is current'),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
