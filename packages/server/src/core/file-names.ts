// File names: the client's name as metadata (cleaned of paths and control characters) and the
// stored name, made from it but safe anywhere (URL, storage key, file system) and unique.

import crypto from 'node:crypto';

const MAX_ORIGINAL = 255;
const MAX_STEM = 60;

/** The client's name without any path, NUL or control characters; "file" when nothing is left. */
export function cleanOriginalName(name: string | undefined): string {
  const base = (name ?? '').split(/[/\\]/).pop() ?? '';
  const cleaned = base.normalize('NFC').replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim();
  const safe = cleaned === '.' || cleaned === '..' ? '' : cleaned;
  return [...safe].slice(0, MAX_ORIGINAL).join('') || 'file';
}

/**
 * `<stem>_<random>.<ext>`: the stem is the original name's, reduced to [a-z0-9_-]; the extension
 * is the sniffed type's (a `.html` never hides behind `.png`); the random part makes it unique.
 */
export function storedFileName(originalName: string, ext: string): string {
  const withoutExt = originalName.replace(/\.[^.]*$/, '');
  const stem = withoutExt
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '_')
    .replace(/^[_-]+|[_-]+$/g, '')
    .slice(0, MAX_STEM) || 'file';
  const random = crypto.randomBytes(8).toString('base64url').replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 10).padEnd(10, '0');
  return `${stem}_${random}.${ext.replace(/[^a-z0-9]/g, '') || 'bin'}`;
}

/** The name a stored file carries in URLs; checked before any lookup. */
export const STORED_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,80}\.[a-z0-9]{1,10}$/;
