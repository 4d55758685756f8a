// A real S3-compatible server (s3rver) on 127.0.0.1 for the suites: in-process, on an ephemeral
// port, with its own folder and bucket. It needs nothing installed, so S3 suites never skip.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

export interface TestS3Server {
  bucket: string;
  endpoint: string;
  /** Environment for a Galley that stores its files in this server's bucket. */
  env: Record<string, string>;
  close(): Promise<void>;
}

// The AWS SDK warns once per process that Node 20 is near its end of support; tests do not need to hear it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export async function startS3Server(options: { presign?: boolean } = {}): Promise<TestS3Server> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'galley-s3-'));
  const bucket = 'galley-test';
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const query = new URLSearchParams({ endpoint, region: 'us-east-1', forcePathStyle: 'true', presign: String(options.presign ?? false) });
  return {
    bucket,
    endpoint,
    // s3rver accepts exactly these credentials.
    env: { STORAGE_URL: `s3://${bucket}?${query}`, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' },
    async close() {
      await server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
