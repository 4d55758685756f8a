// The two ways a call fails: the server answered with an error (GalleyError, from its RFC 9457
// problem body), or no answer arrived at all (GalleyNetworkError). Callers branch on the class.

import { ERROR_STATUS, type ErrorCode, type FieldError, type Problem } from '@galley/protocol';

/** A non-2xx answer from the server. Branch on `status` and `code`, never on the wording. */
export class GalleyError extends Error {
  readonly status: number;
  /** A contract code (§2); a server newer than this SDK may send codes it does not list yet. */
  readonly code: ErrorCode | (string & {});
  readonly detail: string;
  /** Every invalid field of a `validation_failed` or `conflict` answer; empty otherwise. */
  readonly fieldErrors: FieldError[];
  /** Quote it when reporting a problem: the server log has the details under this id. */
  readonly requestId: string | undefined;
  /** Seconds to wait before retrying (429, 503), from `Retry-After`. */
  readonly retryAfter: number | undefined;
  /** The whole problem body, including members this class does not name (`position`, `operation`). */
  readonly problem: Partial<Problem> & Record<string, unknown>;

  constructor(status: number, problem: Partial<Problem> & Record<string, unknown>, headers?: Headers) {
    const code = typeof problem.code === 'string' ? problem.code : codeForStatus(status);
    const detail = typeof problem.detail === 'string' ? problem.detail : `the server answered ${status}`;
    super(`${code}: ${detail}`);
    this.name = 'GalleyError';
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.fieldErrors = Array.isArray(problem.errors) ? problem.errors : [];
    this.requestId = typeof problem.requestId === 'string' ? problem.requestId : headers?.get('x-request-id') ?? undefined;
    const retry = Number(headers?.get('retry-after') ?? NaN);
    this.retryAfter = Number.isFinite(retry) ? retry : undefined;
    this.problem = problem;
  }
}

/** The request never got an answer: offline, DNS, refused connection, TLS, a cut-off body. */
export class GalleyNetworkError extends Error {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'GalleyNetworkError';
  }
}

/**
 * A body that is not a problem (a proxy's HTML error page) still gets a code: the contract's
 * generic one for its status, so callers can branch the same way.
 */
function codeForStatus(status: number): ErrorCode {
  const known = (Object.keys(ERROR_STATUS) as ErrorCode[]).find((code) => ERROR_STATUS[code] === status);
  if (known) return known;
  if (status === 502 || status === 504) return 'unavailable';
  return status >= 500 ? 'internal' : 'bad_request';
}
