// Deterministic sample posts (seeded PRNG): a ~40-character title and a ~500-character body whose
// words follow a Zipf-like law (a few very common, most rare, as in real text), so a one-word
// search finds a realistic share of the posts; a status (evenly spread), a price, an unevenly
// spread category and a `featured` flag. The same seed gives the same data on every run.

export const STATUSES = ['draft', 'published', 'archived'] as const;
/** Uneven on purpose: facet counts then differ per value, as in a real catalogue. */
export const CATEGORIES = ['news', 'guides', 'reviews', 'howto', 'opinion', 'interviews', 'events', 'releases'] as const;
const CATEGORY_WEIGHTS = [30, 20, 15, 12, 9, 7, 4, 3];
const FEATURED_SHARE = 0.1;

export interface PostInput {
  title: string;
  body: string;
  status: (typeof STATUSES)[number];
  price: number;
  category: (typeof CATEGORIES)[number];
  featured: boolean;
}

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

/** The most frequent words, in rank order; the rest of the vocabulary is made up below. */
const COMMON_WORDS = (
  'the a of and to in for with on at by from records collection server index query cursor page ' +
  'galley harbour ledger lantern copper meadow quartz signal orbit ember willow cobalt summit ' +
  'ferry canvas parcel velvet anchor prism thistle beacon marble tundra cedar falcon rivet saffron ' +
  'glacier pepper mosaic ripple timber violet nectar pylon compass juniper basalt'
).split(' ');
const VOCABULARY_SIZE = 5000;
const CONSONANTS = 'bcdfghjklmnprstvz';
const VOWELS = 'aeiou';

/** COMMON_WORDS, then made-up words of 2–4 syllables that are no other word's prefix (so a prefix search finds one word). */
function vocabulary(): string[] {
  const random = prng(5000);
  const words = [...COMMON_WORDS];
  const seen = new Set(words);
  while (words.length < VOCABULARY_SIZE) {
    let word = '';
    for (let s = 2 + Math.floor(random() * 3); s > 0; s--) word += CONSONANTS[Math.floor(random() * CONSONANTS.length)]! + VOWELS[Math.floor(random() * VOWELS.length)]!;
    // A closing consonant that no syllable starts with keeps every made-up word from being another's prefix.
    word += 'x';
    if (!seen.has(word)) {
      seen.add(word);
      words.push(word);
    }
  }
  return words;
}

const WORDS = vocabulary();

/** Cumulative Zipf weights (rank r weighs 1/r), for sampling a word by binary search. */
const CUMULATIVE = (() => {
  let sum = 0;
  const out = WORDS.map((_, i) => (sum += 1 / (i + 1)));
  return out.map((c) => c / sum);
})();

function word(random: () => number): string {
  const x = random();
  let lo = 0;
  let hi = CUMULATIVE.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (CUMULATIVE[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return WORDS[lo]!;
}

/**
 * The words searched for: mid-frequency ranks, each in roughly 0.5–2 % of the posts (a title or
 * body word, about 75 per post); the benchmark logs their actual hit counts.
 */
export const SEARCH_WORDS: readonly string[] = [700, 900, 1100, 1300].map((rank) => WORDS[rank]!);

function text(random: () => number, length: number): string {
  let out = '';
  while (out.length < length) out += (out ? ' ' : '') + word(random);
  return out.slice(0, length).trimEnd();
}

function weighted<T>(random: () => number, values: readonly T[], weights: readonly number[]): T {
  let x = random() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < values.length; i++) if ((x -= weights[i]!) < 0) return values[i]!;
  return values[values.length - 1]!;
}

export function makePost(random: () => number, label?: string): PostInput {
  const title = label ? `${label} ${text(random, 40 - label.length - 1)}` : text(random, 40);
  return {
    title: title.charAt(0).toUpperCase() + title.slice(1),
    body: text(random, 500),
    status: STATUSES[Math.floor(random() * STATUSES.length)]!,
    price: Math.round(random() * 100_000) / 100,
    category: weighted(random, CATEGORIES, CATEGORY_WEIGHTS),
    featured: random() < FEATURED_SHARE,
  };
}
