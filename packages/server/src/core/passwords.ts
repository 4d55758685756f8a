// Password hashing with argon2id (OWASP's minimum: 19 MiB, 2 passes, 1 lane) and the password
// policy: 8 to 1024 characters (capped before anything is hashed), and not one of the 10,000 most
// common passwords (data/common-passwords.txt; scripts/generate-common-passwords.mjs says where from).

import fs from 'node:fs';
import os from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import type { FieldError } from '@galley/protocol';

const ARGON2ID = 2; // @node-rs/argon2's Algorithm.Argon2id (a const enum, which isolated modules cannot import)
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;
export const MIN_PASSWORD_LENGTH = 8;
/** In UTF-16 code units, checked before hashing so a huge password costs nothing. */
export const MAX_PASSWORD_LENGTH = 1024;

/**
 * Hashes run on libuv's thread pool, off the event loop — but 4 pool threads hashing on a 2-core
 * machine would still take the CPU from it. At most (cores − 1) hash at once, so one core always
 * serves requests; a login flood queues its hashes instead of slowing every other request down.
 */
const HASH_SLOTS = Math.max(1, os.availableParallelism() - 1);
let hashing = 0;
const waiting: Array<() => void> = [];

async function inHashSlot<T>(work: () => Promise<T>): Promise<T> {
  if (hashing >= HASH_SLOTS) await new Promise<void>((resolve) => waiting.push(resolve));
  else hashing++;
  try {
    return await work();
  } finally {
    // The slot passes straight to the next waiter, or is freed.
    const next = waiting.shift();
    if (next) next();
    else hashing--;
  }
}

export function hashPassword(password: string): Promise<string> {
  return inHashSlot(() => hash(password, OPTIONS));
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await inHashSlot(() => verify(stored, password));
  } catch {
    return false;
  }
}

/** Verified against when the account does not exist, so a login takes as long either way. */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  return (dummyHash ??= hashPassword('galley-timing-equaliser'));
}

let common: Set<string> | undefined;
/** Loaded on first use: most processes never check a new password. */
function commonPasswords(): Set<string> {
  return (common ??= new Set(fs.readFileSync(new URL('../../data/common-passwords.txt', import.meta.url), 'utf8').split('\n').filter(Boolean)));
}

/** What is wrong with a new password (a `password` field error), or undefined when it is acceptable. */
export function passwordProblem(password: unknown): FieldError | undefined {
  const problem = (code: string, message: string): FieldError => ({ field: 'password', code, message });
  if (password === undefined) return problem('required', 'is required');
  if (typeof password !== 'string') return problem('invalid_type', 'must be a string');
  if (password.length > MAX_PASSWORD_LENGTH) return problem('too_long', `must be at most ${MAX_PASSWORD_LENGTH} characters`);
  if (password.includes('\u0000') || !password.isWellFormed()) return problem('invalid_value', 'must be valid Unicode text without NUL characters');
  if ([...password].length < MIN_PASSWORD_LENGTH) return problem('too_short', `must be at least ${MIN_PASSWORD_LENGTH} characters`);
  if (commonPasswords().has(password.normalize('NFC').toLowerCase())) return problem('common_password', 'is one of the most common passwords; choose another');
  return undefined;
}
