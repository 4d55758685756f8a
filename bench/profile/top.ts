// Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self time, and
// the most inclusive time (self + everything they called), so hot spots show without a GUI.
//
//   node --import tsx bench/profile/top.ts /tmp/prof/CPU.*.cpuprofile [--limit 40] [--filter packages/server]

import fs from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

// Piped to `head`, stdout closes early: that ends the summary, not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    limit: { type: 'string', default: '40' },
    filter: { type: 'string' },
    /** Also list who calls functions of this name, with their time under it. */
    callers: { type: 'string' },
  },
});
const profile = JSON.parse(fs.readFileSync(positionals[0]!, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

const label = (n: ProfileNode) => {
  const file = n.callFrame.url.replace(/^file:\/\//, '').replace(/^.*?\/(node_modules|packages|bench)\//, '$1/');
  return `${n.callFrame.functionName || '(anonymous)'} ${file}:${n.callFrame.lineNumber + 1}`;
};

const self = new Map<string, number>();
const callers = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  self.set(label(node), (self.get(label(node)) ?? 0) + us);
  // Each function counts once per stack, however often it recurses.
  const seen = new Set<string>();
  let below: ProfileNode | undefined;
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const node = byId.get(cur)!;
    const l = label(node);
    if (args.callers && below?.callFrame.functionName === args.callers) callers.set(l, (callers.get(l) ?? 0) + us);
    below = node;
    if (seen.has(l)) continue;
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + us);
  }
}

const show = (title: string, map: Map<string, number>) => {
  console.log(`\n${title} (of ${(total / 1000).toFixed(0)} ms sampled)`);
  [...map]
    .filter(([l]) => !args.filter || l.includes(args.filter))
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(args.limit))
    .forEach(([l, us]) => console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${l}`));
};
show('self time', self);
show('inclusive time', inclusive);
if (args.callers) show(`callers of ${args.callers}`, callers);
