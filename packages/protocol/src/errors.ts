// The error codes of the public contract (contract.md §2). Clients branch on `status` and `code`;
// a code, once published, is never reused for another meaning. docs/errors.md documents each one.

export const ERROR_STATUS = {
  bad_request: 400,
  invalid_filter: 400,
  validation_failed: 400,
  invalid_token: 400,
  unauthenticated: 401,
  invalid_credentials: 401,
  oauth_failed: 400,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  range_not_satisfiable: 416,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** One invalid field of a request body (`errors[]` of a problem). */
export interface FieldError {
  field: string;
  code: string;
  message: string;
}

/** An RFC 9457 problem body as Galley sends it. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail?: string;
  errors?: FieldError[];
  requestId?: string;
  /** Where in a filter or rule expression the problem is (0-based character offset). */
  position?: number;
}

export const ERROR_TITLES: Record<ErrorCode, string> = {
  bad_request: 'Bad request',
  invalid_filter: 'Invalid filter',
  validation_failed: 'Validation failed',
  invalid_token: 'Invalid or expired link',
  unauthenticated: 'Authentication required',
  invalid_credentials: 'Invalid credentials',
  oauth_failed: 'Sign-in with the provider failed',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  conflict: 'Conflict',
  precondition_failed: 'Precondition failed',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  range_not_satisfiable: 'Range not satisfiable',
  rate_limited: 'Too many requests',
  internal: 'Internal error',
  unavailable: 'Service unavailable',
};
