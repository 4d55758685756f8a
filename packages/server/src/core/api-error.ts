// The one error type core code throws for anything a client did wrong or must be told.
// http/error-handler.ts turns it (and anything else) into an RFC 9457 problem response.

import { ERROR_STATUS, ERROR_TITLES, type ErrorCode, type FieldError, type Problem } from '@galley/protocol';

export class ApiError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly fieldErrors?: FieldError[],
    options: { status?: number; position?: number; headers?: Record<string, string>; extra?: Record<string, unknown> } = {},
  ) {
    super(detail);
    this.name = 'ApiError';
    this.status = options.status ?? ERROR_STATUS[code];
    this.position = options.position;
    this.headers = options.headers ?? {};
    this.extra = options.extra;
  }

  readonly position: number | undefined;
  /** Additional problem members (for example the failed operation's index in a batch). */
  readonly extra: Record<string, unknown> | undefined;

  /** The problem body (contract §2) for this error; HTTP responses and realtime `error` envelopes alike. */
  toProblem(requestId?: string): Problem & Record<string, unknown> {
    return {
      type: 'about:blank',
      title: ERROR_TITLES[this.code],
      status: this.status,
      code: this.code,
      detail: this.detail,
      ...(this.fieldErrors ? { errors: this.fieldErrors } : {}),
      ...(this.position !== undefined ? { position: this.position } : {}),
      ...this.extra,
      ...(requestId !== undefined ? { requestId } : {}),
    };
  }

  static validation(errors: FieldError[]): ApiError {
    const n = errors.length;
    return new ApiError('validation_failed', n === 1 ? '1 field is invalid' : `${n} fields are invalid`, errors);
  }

  static notFound(what = 'The resource'): ApiError {
    return new ApiError('not_found', `${what} was not found`);
  }
}
