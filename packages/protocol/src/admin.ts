// Shapes of the endpoints the dashboard uses beyond records: the first run, the user directory,
// the audit log, the rule tester and check, and the metrics summary (docs/accounts.md,
// docs/expressions.md, docs/operations.md).

import type { User } from './auth.ts';
import type { FieldDef, RuleName } from './collections.ts';

/** `GET /api/v1/setup` while no superuser exists (404 afterwards). */
export interface SetupStatus {
  needsSuperuser: boolean;
}

/** `POST /api/v1/setup`. */
export interface SetupRequest {
  email: string;
  password: string;
  /** The one-time token from the server log; not needed from the machine itself. */
  setupToken?: string;
}

/** `GET /api/v1/auth/users`: users with their account fields, by email. */
export interface UserPage {
  items: User[];
  nextCursor: string | null;
}

/** An entry of `GET /api/v1/audit`. */
export interface AuditEntry {
  id: string;
  created: string;
  action: string;
  user: string | null;
  actor: string | null;
  email: string | null;
  ip: string | null;
  user_agent: string | null;
  detail: Record<string, unknown> | null;
}

/** Who the rule tester evaluates for: anonymous, an account, or a hypothetical caller's fields. */
export type RuleTestAuth = null | { userId: string } | ({ roles?: string[]; id?: string; verified?: boolean } & Record<string, unknown>);

export interface RuleTestRequest {
  auth: RuleTestAuth;
  recordId?: string;
  record?: Record<string, unknown>;
  body?: Record<string, unknown>;
  rules?: RuleName[];
}

export interface OperandTrace {
  text: string;
  source: 'field' | 'request' | 'literal' | 'now';
  /** A single value, or the values of a multi-value field or request list. */
  value: unknown;
  /** False when a request value cannot be compared as the field's kind (the comparison then fails, except `!=`/`!~`). */
  comparable: boolean;
}

interface TraceBase {
  /** The sub-expression as written, and where it is in the expression. */
  text: string;
  start: number;
  end: number;
  value: boolean;
}

/** The evaluation tree of a rule expression: every sub-expression with its value. */
export type RuleTrace =
  | (TraceBase & { kind: 'compare'; op: string; left: OperandTrace; right: OperandTrace })
  | (TraceBase & { kind: 'and' | 'or'; left: RuleTrace; right: RuleTrace })
  | (TraceBase & { kind: 'not'; expr: RuleTrace })
  | (TraceBase & { kind: 'constant' });

export interface RuleVerdict {
  rule: RuleName;
  expression: string | null;
  allowed: boolean;
  reason: 'superuser' | 'superusers_only' | 'anyone' | 'expression' | 'error';
  trace: RuleTrace | null;
  error?: { message: string; position: number };
}

export interface RuleTestResult {
  auth: User | null;
  record: Record<string, unknown>;
  results: RuleVerdict[];
}

/** `POST /collections/:name/rules/check`: `fields` checks against an unsaved draft. */
export interface RuleCheckRequest {
  expression: string;
  fields?: FieldDef[];
}

export interface RouteSummary {
  method: string;
  route: string;
  requests: number;
  /** Answers with status 500 or above. */
  serverErrors: number;
  /** Answers with status 400–499. */
  clientErrors: number;
  /** Estimated from the latency buckets: the upper bound of the bucket holding the quantile, in ms. */
  p50Ms: number | null;
  p95Ms: number | null;
}

/** `GET /api/v1/metrics/summary`: totals since the process started; two readings give rates. */
export interface MetricsSummary {
  /** When this reading was taken (ISO 8601). */
  at: string;
  /** Of the server process. */
  uptimeSeconds: number;
  requests: { total: number; serverErrors: number; clientErrors: number };
  /** Busiest first, at most 50. */
  routes: RouteSummary[];
  /** Gauges by metric name (galley_realtime_connections, galley_jobs_pending, …). */
  gauges: Record<string, number>;
  /** Counters other than the HTTP ones (galley_job_failures_total, galley_db_slow_queries_total, …). */
  counters: Record<string, number>;
}
