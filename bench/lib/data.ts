// Deterministic sample posts (seeded PRNG): a ~40-character title, a ~500-character body, one of
// three statuses (evenly spread) and a price; the same seed gives the same data on every run.

export const STATUSES = ['draft', 'published', 'archived'] as const;

export interface PostInput {
  title: string;
  body: string;
  status: (typeof STATUSES)[number];
  price: number;
}

const WORDS = (
  'galley harbour ledger lantern copper meadow quartz signal orbit ember willow cobalt summit ' +
  'ferry canvas parcel velvet anchor prism thistle beacon marble tundra cedar falcon rivet saffron ' +
  'glacier pepper mosaic ripple timber violet nectar pylon compass juniper basalt ' +
  'the a of and to in for with on at by from records collection server index query cursor page'
).split(' ');

/** mulberry32: small, fast, good enough for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function text(random: () => number, length: number): string {
  let out = '';
  while (out.length < length) out += (out ? ' ' : '') + WORDS[Math.floor(random() * WORDS.length)];
  return out.slice(0, length).trimEnd();
}

export function makePost(random: () => number, label?: string): PostInput {
  const title = label ? `${label} ${text(random, 40 - label.length - 1)}` : text(random, 40);
  return {
    title: title.charAt(0).toUpperCase() + title.slice(1),
    body: text(random, 500),
    status: STATUSES[Math.floor(random() * STATUSES.length)]!,
    price: Math.round(random() * 100_000) / 100,
  };
}
