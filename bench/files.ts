// `npm run bench:files`: a 500 MB resumable (tus) upload to a Galley child process on loopback —
// throughput, and the server's resident memory while it streams (it must stay within +64 MB of
// where it started: nothing is buffered) — then thumbnails made per second by the job queue.
// Results go to bench/results/files-<date>.json. See docs/benchmarks.md.

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tus from 'tus-js-client';
import sharp from 'sharp';
import { cleanupAll } from './lib/cleanup.ts';
import { startGalley } from './lib/galley.ts';
import { requestJson } from './lib/http.ts';

const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
const UPLOAD_BYTES = Number(process.env.BENCH_UPLOAD_MB ?? 500) * 1024 * 1024;
const THUMB_IMAGES = 20;
const RSS_BUDGET_MB = 64;

const MEDIA = {
  name: 'media',
  fields: [
    { name: 'file', type: 'file', maxSize: UPLOAD_BYTES + 1024 * 1024 },
    { name: 'image', type: 'file', maxSize: 20 * 1024 * 1024, mimeTypes: ['image/png', 'image/jpeg'], thumbs: ['100x100', '0x300'] },
  ],
  rules: { view: '', create: "@request.auth.id != ''" },
};

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

/** CPU seconds (user + system, all threads) the process has used so far: a figure the machine's load does not inflate as it does wall-clock time. */
function cpuSeconds(pid: number): number {
  // Fields 14 and 15 of /proc/<pid>/stat, after the command name in parentheses; in clock ticks (100 a second on Linux).
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A file of `bytes` incompressible-looking bytes (1 MB of random data, repeated). */
function makeFile(file: string, bytes: number): void {
  const block = crypto.randomBytes(1024 * 1024);
  const fd = fs.openSync(file, 'w');
  for (let written = 0; written < bytes; written += block.length) fs.writeSync(fd, block, 0, Math.min(block.length, bytes - written));
  fs.closeSync(fd);
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'galley-bench-files-'));
  const galley = await startGalley({ dataDir: path.join(dir, 'data') });
  const { url, pid } = galley.server;
  try {
    await requestJson(`${url}/api/v1/collections`, { method: 'POST', body: MEDIA, token: galley.token, expect: 201 });
    const source = path.join(dir, 'upload.bin');
    makeFile(source, UPLOAD_BYTES);

    const rssBefore = rssMb(pid);
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMb(pid))), 100);
    const started = performance.now();
    const uploadUrl = await new Promise<string>((resolve, reject) => {
      const upload = new tus.Upload(fs.createReadStream(source), {
        endpoint: `${url}/api/v1/uploads`,
        headers: { authorization: `Bearer ${galley.token}` },
        metadata: { filename: 'upload.bin' },
        uploadSize: UPLOAD_BYTES,
        chunkSize: 16 * 1024 * 1024,
        retryDelays: [],
        onSuccess: () => resolve(upload.url!),
        onError: reject,
      });
      upload.start();
    });
    const uploadSeconds = (performance.now() - started) / 1000;
    const attachStarted = performance.now();
    const attachCpuStart = cpuSeconds(pid);
    await requestJson(`${url}/api/v1/collections/media/records`, { method: 'POST', body: { file: { upload: uploadUrl.split('/').pop() } }, token: galley.token, expect: 201, timeoutMs: 600_000 });
    const attachSeconds = (performance.now() - attachStarted) / 1000;
    const attachServerCpuSeconds = cpuSeconds(pid) - attachCpuStart;
    clearInterval(sampler);
    const mb = UPLOAD_BYTES / (1024 * 1024);

    const image = await sharp({ create: { width: 2400, height: 1600, channels: 3, background: '#3070c0' } }).jpeg().toBuffer();
    const thumbStarted = performance.now();
    const records: Array<{ id: string; image: string }> = [];
    for (let i = 0; i < THUMB_IMAGES; i++) {
      const form = new FormData();
      form.append('image', new Blob([image], { type: 'image/jpeg' }), `photo-${i}.jpg`);
      const res = await fetch(`${url}/api/v1/collections/media/records`, { method: 'POST', body: form, headers: { authorization: `Bearer ${galley.token}` } });
      if (res.status !== 201) throw new Error(`image upload: ${res.status} ${await res.text()}`);
      records.push((await res.json()) as { id: string; image: string });
    }
    // Thumbnails are ready when the URL answers with a smaller image than the original.
    const ready = async (r: { id: string; image: string }, size: string) => {
      const res = await fetch(`${url}/api/v1/files/media/${r.id}/${r.image}?thumb=${size}`);
      return Number(res.headers.get('content-length')) < image.length && (await res.arrayBuffer()) !== undefined;
    };
    for (const r of records) for (const size of MEDIA.fields[1]!.thumbs!) while (!(await ready(r, size))) await new Promise((s) => setTimeout(s, 50));
    const thumbSeconds = (performance.now() - thumbStarted) / 1000;

    const result = {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
      tus: {
        megabytes: mb,
        uploadSeconds: Number(uploadSeconds.toFixed(2)),
        uploadMBps: Number((mb / uploadSeconds).toFixed(1)),
        attachSeconds: Number(attachSeconds.toFixed(2)),
        attachServerCpuSeconds: Number(attachServerCpuSeconds.toFixed(2)),
        serverRssStartMB: Number(rssBefore.toFixed(1)),
        serverRssPeakMB: Number(rssPeak.toFixed(1)),
        serverRssGrowthMB: Number((rssPeak - rssBefore).toFixed(1)),
        withinBudget: rssPeak - rssBefore <= RSS_BUDGET_MB,
      },
      thumbnails: { images: THUMB_IMAGES, sizes: 2, source: '2400x1600 JPEG', seconds: Number(thumbSeconds.toFixed(2)), perSecond: Number(((THUMB_IMAGES * 2) / thumbSeconds).toFixed(1)) },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    const file = path.join(RESULTS_DIR, `files-${result.date.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}.json`);
    fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`written: ${path.relative(process.cwd(), file)}\n`);
    if (!result.tus.withinBudget) process.exitCode = 1;
  } finally {
    await galley.server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch(async (err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  await cleanupAll();
  process.exit(1);
});
