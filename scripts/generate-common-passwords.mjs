// Regenerates packages/server/data/common-passwords.txt: the 10,000 most common passwords of at
// least 8 characters (shorter ones are refused by length anyway), lower-cased, most common first.
//
// Source: the frequency-ranked `passwords` list of @zxcvbn-ts/language-common 4.1.3 (MIT; the list
// descends from zxcvbn's, Dan Wheeler and Dropbox, Inc.). It is a build-time input only, not a
// dependency:
//   cd /tmp && npm pack @zxcvbn-ts/language-common@4.1.3 && tar xzf zxcvbn-ts-language-common-4.1.3.tgz
//   node scripts/generate-common-passwords.mjs /tmp/package/src/passwords.json

import { readFileSync, writeFileSync } from 'node:fs';

const source = process.argv[2];
if (!source) {
  console.error('usage: node scripts/generate-common-passwords.mjs <path to passwords.json>');
  process.exit(1);
}
const ranked = JSON.parse(readFileSync(source, 'utf8'));
const seen = new Set();
for (const word of ranked) {
  const lower = word.toLowerCase();
  if ([...lower].length < 8 || seen.has(lower)) continue;
  seen.add(lower);
  if (seen.size === 10_000) break;
}
const target = new URL('../packages/server/data/common-passwords.txt', import.meta.url);
writeFileSync(target, [...seen].join('\n') + '\n');
console.log(`wrote ${seen.size} passwords to ${target.pathname}`);
