// Decides a file's type from its bytes (never its name or the client's header): binary formats by
// file-type's signatures, text by being valid UTF-8, and HTML, SVG and XML among texts by their
// markup — those are what a browser could run, so they must be recognised, not called "text".

import { fileTypeFromBuffer } from 'file-type';

/** How much of the start of a file is enough to decide (file-type needs at most 4100 bytes). */
export const SNIFF_BYTES = 8192;

export interface SniffedType {
  type: string;
  /** The extension stored names get (from the content, like the type). */
  ext: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Valid UTF-8 without NUL (a sample cut mid-character is allowed its last incomplete bytes). */
function asText(head: Buffer, complete: boolean): string | undefined {
  if (head.includes(0)) return undefined;
  for (let cut = 0; cut <= (complete ? 0 : 3) && cut < head.length + 1; cut++) {
    try {
      return utf8.decode(head.subarray(0, head.length - cut));
    } catch {
      // try a shorter sample
    }
  }
  return undefined;
}

// The markup that makes browsers treat a text as HTML (after the WHATWG MIME sniffing standard).
const HTML_START = /^<(?:!doctype\s+html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|!--)[\s>/]/i;
const SVG = /<svg[\s>/]/i;

function classifyText(text: string): SniffedType {
  const start = text.replace(/^\uFEFF/, '').trimStart();
  if (/^<\?xml[\s?]/i.test(start) || /^<!doctype\s+svg/i.test(start) || /^<svg[\s>/]/i.test(start)) {
    return SVG.test(start) ? { type: 'image/svg+xml', ext: 'svg' } : { type: 'application/xml', ext: 'xml' };
  }
  if (HTML_START.test(start)) return { type: 'text/html', ext: 'html' };
  // Markup further in is still something a browser could render if it ever sniffed: call it HTML.
  if (/<(?:script|iframe|object|embed|svg|html|body)[\s>/]/i.test(start.slice(0, 4096))) return { type: 'text/html', ext: 'html' };
  return { type: 'text/plain', ext: 'txt' };
}

/** `complete`: `head` is the whole file (so a cut-off last character is not forgiven). */
export async function sniffType(head: Buffer, complete: boolean): Promise<SniffedType> {
  const found = await fileTypeFromBuffer(head);
  // XML is text: look at it as text, to tell SVG (which can carry scripts) from other XML.
  if (found && found.mime !== 'application/xml') return { type: found.mime, ext: found.ext };
  const text = asText(head, complete);
  if (text !== undefined) return classifyText(text);
  return { type: 'application/octet-stream', ext: 'bin' };
}

// Types a browser shows without running anything. Everything else is sent as an attachment.
const INLINE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/bmp', 'text/plain']);

export function servesInline(type: string): boolean {
  return INLINE.has(type) || type.startsWith('audio/') || type.startsWith('video/');
}
