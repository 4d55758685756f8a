// Account emails: one normal form (trimmed, Unicode NFC, lower case) so that an address has one
// account, and a refusal of addresses built to deceive a person or a mail header — control and
// invisible characters, compatibility look-alikes (full-width letters), and letters of several
// scripts in one label (a Cyrillic "а" inside a Latin name).

import type { FieldError } from '@galley/protocol';

/** RFC 5321's limits: 254 for the whole path, 64 for the local part. */
export const MAX_EMAIL_LENGTH = 254;
const MAX_LOCAL_LENGTH = 64;

export function normaliseEmail(email: string): string {
  return email.trim().normalize('NFC').toLowerCase();
}

/** Letters of these groups may not share a label; Latin may go with the CJK group (UTS #39, "highly restrictive"). */
const SCRIPTS: Array<[string, RegExp]> = [
  ['latin', /\p{Script=Latin}/u],
  ['greek', /\p{Script=Greek}/u],
  ['cyrillic', /\p{Script=Cyrillic}/u],
  ['armenian', /\p{Script=Armenian}/u],
  ['georgian', /\p{Script=Georgian}/u],
  ['hebrew', /\p{Script=Hebrew}/u],
  ['arabic', /\p{Script=Arabic}/u],
  ['devanagari', /\p{Script=Devanagari}/u],
  ['thai', /\p{Script=Thai}/u],
  ['cjk', /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Bopomofo}]/u],
];

function scriptOf(letter: string): string {
  for (const [name, pattern] of SCRIPTS) if (pattern.test(letter)) return name;
  return 'other';
}

function mixesScripts(label: string): boolean {
  const scripts = new Set<string>();
  for (const char of label) if (/\p{L}/u.test(char)) scripts.add(scriptOf(char));
  scripts.delete('latin');
  // Latin plus at most one other group is mixing unless that group is CJK; two non-Latin groups always are.
  if (scripts.size > 1) return true;
  return scripts.size === 1 && !scripts.has('cjk') && /\p{Script=Latin}/u.test(label);
}

// Local part: RFC 5322 atext and dots, plus letters, marks and digits of any script (RFC 6531).
const LOCAL_PART = /^[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~-]+(\.[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;
const DOMAIN_LABEL = /^[\p{L}\p{M}\p{N}](?:[\p{L}\p{M}\p{N}-]{0,61}[\p{L}\p{M}\p{N}])?$/u;

/** The normalised email, or the field error that refuses it. */
export function checkEmail(input: unknown): { email: string } | { error: FieldError } {
  const refuse = (code: string, message: string) => ({ error: { field: 'email', code, message } });
  if (input === undefined) return refuse('required', 'is required');
  if (typeof input !== 'string') return refuse('invalid_type', 'must be a string');
  // Checked before normalising, so a megabyte of text costs nothing.
  if (input.length > MAX_EMAIL_LENGTH + 64) return refuse('too_long', `must be at most ${MAX_EMAIL_LENGTH} characters`);
  // CR/LF would inject mail headers; other controls and invisible format characters (zero-width
  // joiners, bidi overrides) make two addresses look alike.
  if (/[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}]/u.test(input.trim())) return refuse('invalid_email', 'must not contain control or invisible characters');
  const email = normaliseEmail(input);
  if (email.length > MAX_EMAIL_LENGTH) return refuse('too_long', `must be at most ${MAX_EMAIL_LENGTH} characters`);
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  const labels = domain.split('.');
  if (at <= 0 || local.length > MAX_LOCAL_LENGTH || !LOCAL_PART.test(local) || labels.length < 2 || !labels.every((l) => DOMAIN_LABEL.test(l)) || /^\d+$/.test(labels.at(-1)!)) {
    return refuse('invalid_email', 'must be an email address');
  }
  // Full-width letters, ligatures, circled digits…: characters that only mimic others.
  if (email.normalize('NFKC') !== email) return refuse('confusable_email', 'must not contain compatibility characters (full-width letters, ligatures …)');
  if ([...local.split('.'), ...labels].some(mixesScripts)) return refuse('confusable_email', 'must not mix letters of different scripts in one part');
  return { email };
}
