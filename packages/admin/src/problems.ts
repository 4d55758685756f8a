// Turns a failed call into words for a person: what happened and, where it helps, what to do.
// Screens branch on `status` and `code` (never on wording) and show this text.

import { GalleyError, GalleyNetworkError } from '@galley/sdk';

export function describeError(error: unknown): string {
  if (error instanceof GalleyNetworkError) return 'The server did not answer. Check that it is running and reachable, then try again.';
  if (error instanceof GalleyError) {
    if (error.code === 'rate_limited') return `Too many attempts. Try again in ${error.retryAfter ?? 'a few'} seconds.`;
    if (error.code === 'unavailable') return `The server is busy or starting up (${error.detail}). Try again in a moment.`;
    if (error.code === 'internal') return `The server failed unexpectedly. Its log has the details under request id ${error.requestId ?? 'unknown'}.`;
    return error.detail;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The server's message for one field of a `validation_failed` or `conflict` answer. */
export function fieldErrorFor(error: unknown, field: string): string | undefined {
  if (!(error instanceof GalleyError)) return undefined;
  return error.fieldErrors.find((e) => e.field === field)?.message;
}
