// The load generator of `request-path.ts --http`, in a process of its own so that the profiled
// process's CPU time is the server's alone. Reads a LoadSpec-like JSON from argv[2]; prints the result.

import { makePost, prng } from '../lib/data.ts';
import { runLoad } from '../lib/load.ts';

interface ClientSpec {
  baseUrl: string;
  method: 'GET' | 'POST';
  paths: string[];
  connections: number;
  duration: number;
  /** POST: a fresh post per request, titled with this label and a counter. */
  bodyLabel?: string;
}

const spec = JSON.parse(process.argv[2]!) as ClientSpec;
const random = prng(99);
let n = 0;
const body = spec.bodyLabel ? () => JSON.stringify(makePost(random, `${spec.bodyLabel}-${++n}`)) : undefined;
const totals = await runLoad({ ...spec, body });
const m = totals.measurement();
process.stdout.write(JSON.stringify({ responses: m.responses, unexpected: m.unexpected, errors: m.errors, rps: m.rps }));
