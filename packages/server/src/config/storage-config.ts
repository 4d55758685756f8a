// STORAGE_URL → where files are stored: absent → `<data dir>/storage`; `file:///abs/path` → that
// folder; `s3://BUCKET?endpoint=…&region=…&forcePathStyle=true&presign=true` → an S3 bucket,
// with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (absent: the AWS SDK's default chain).

import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type StorageConfig =
  | { kind: 'local'; dir: string }
  | {
      kind: 's3';
      bucket: string;
      region: string;
      endpoint?: string;
      forcePathStyle: boolean;
      credentials?: { accessKeyId: string; secretAccessKey: string };
      presign: boolean;
    };

const S3_PARAMS = new Set(['endpoint', 'region', 'forcePathStyle', 'presign']);
// S3's bucket naming rules (lower case, digits, dots and hyphens, 3–63 characters).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** `fail` turns a message into the caller's configuration error. */
export function parseStorageUrl(
  value: string | undefined,
  dataDir: string,
  env: Record<string, string | undefined>,
  fail: (message: string) => Error,
): StorageConfig {
  if (!value) return { kind: 'local', dir: path.join(dataDir, 'storage') };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw fail('STORAGE_URL is not a URL (use s3://BUCKET?… or file:///path, or leave it unset)');
  }
  if (url.protocol === 'file:') return { kind: 'local', dir: fileURLToPath(url) };
  if (url.protocol !== 's3:') throw fail(`STORAGE_URL must be s3://… or file://…, not ${url.protocol}`);
  const bucket = url.hostname;
  if (!BUCKET.test(bucket)) throw fail('STORAGE_URL: the bucket name (s3://BUCKET) must be 3–63 characters of a-z, 0-9, "." and "-"');
  for (const key of url.searchParams.keys()) {
    if (!S3_PARAMS.has(key)) throw fail(`STORAGE_URL: unknown parameter "${key}" (known: ${[...S3_PARAMS].join(', ')})`);
  }
  const endpoint = url.searchParams.get('endpoint') ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\//.test(endpoint)) throw fail('STORAGE_URL: endpoint must be an http(s) URL');
  const flag = (name: string) => {
    const v = url.searchParams.get(name);
    if (v !== null && v !== 'true' && v !== 'false') throw fail(`STORAGE_URL: ${name} must be true or false`);
    return v === 'true';
  };
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) throw fail('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together');
  return {
    kind: 's3',
    bucket,
    region: url.searchParams.get('region') ?? env.AWS_REGION ?? 'us-east-1',
    endpoint,
    forcePathStyle: flag('forcePathStyle'),
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
    presign: flag('presign'),
  };
}
