// What an expression may know about the request: the caller, the body (rules only) and the time.
// Built per request by core/record-access.ts; read by the compiler and the evaluator alike.

export interface RequestContext {
  /** The authenticated user record (id, email, roles, fields …), or null when anonymous. */
  auth: Record<string, unknown> | null;
  /** The request body, for `@request.body.*` in create and update rules. */
  body?: Record<string, unknown>;
  /** ISO time of the request, for `@now`. */
  now: string;
}
