// The rule tester (superusers): would this caller pass each rule of a collection on this record,
// and why. It applies the rules as core/record-access.ts does (superusers pass, null is superusers
// only, "" is anyone) and evaluates expressions in memory with the evaluator's tracing mode, which
// the differential tests hold to the SQL. Also the as-you-type check of one expression.

import { ExprError } from '@galley/expr';
import type { FieldError } from '@galley/protocol';
import { ApiError } from './api-error.ts';
import { callerFor, type AuthUser, type Caller } from './caller.ts';
import { RULE_NAMES, type CollectionDef, type RuleName } from './collection-model.ts';
import { validateCollectionInput } from './collection-validation.ts';
import type { CollectionService } from './collections.ts';
import { parseCached } from './record-access.ts';
import { LOOKUP_ROUNDS, RelationLookups, type RecordLoader } from './realtime-access.ts';
import { prepareTrace, type ApiRecordValues, type Trace } from '../rules/evaluator.ts';
import { checkRule } from '../rules/rule-check.ts';

export interface RuleVerdict {
  rule: RuleName;
  /** The rule as defined: null (superusers only), "" (anyone) or an expression. */
  expression: string | null;
  allowed: boolean;
  /** Why: the caller is a superuser, the rule is null or "", or the expression's value. */
  reason: 'superuser' | 'superusers_only' | 'anyone' | 'expression' | 'error';
  /** The evaluation tree of an expression rule (also for superusers, who pass anyway). */
  trace: Trace | null;
  /** An expression that cannot be evaluated for this request (a request list over the limit …). */
  error?: { message: string; position: number };
}

export interface RuleTestResult {
  /** `@request.auth` as the rules saw it (null: anonymous). */
  auth: AuthUser | null;
  /** The record the rules were evaluated on: the stored one (recordId) with `record` laid over it. */
  record: ApiRecordValues;
  results: RuleVerdict[];
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class RuleTester {
  constructor(
    private readonly collections: CollectionService,
    private readonly users: { userById(id: string): Promise<AuthUser | undefined> },
    private readonly loadRecords: RecordLoader,
  ) {}

  /** `input`: `{auth: {userId} | {id?, roles?, …} | null, recordId?, record?, body?, rules?}`; every problem reported at once. */
  async test(name: string, input: unknown): Promise<RuleTestResult> {
    const collection = this.collections.require(name);
    const errors: FieldError[] = [];
    const add = (field: string, code: string, message: string) => errors.push({ field, code, message });
    if (!isPlainObject(input)) throw ApiError.validation([{ field: '', code: 'invalid_type', message: 'must be an object' }]);
    for (const key of Object.keys(input)) if (!['auth', 'recordId', 'record', 'body', 'rules'].includes(key)) add(key, 'unknown_property', 'is not a member of a rule test');

    const auth = await this.authOf(input.auth, add);
    let stored: ApiRecordValues = {};
    if (input.recordId !== undefined) {
      if (typeof input.recordId !== 'string' || input.recordId.length > 64) add('recordId', 'invalid_type', 'must be a record id');
      else {
        const [found] = await this.loadRecords(collection, [input.recordId]);
        if (found) stored = found;
        else add('recordId', 'not_found', `no record of ${collection.name} has this id`);
      }
    }
    if (input.record !== undefined && !isPlainObject(input.record)) add('record', 'invalid_type', 'must be an object of field values');
    if (input.body !== undefined && !isPlainObject(input.body)) add('body', 'invalid_type', 'must be an object (what @request.body is)');
    const rules = input.rules ?? RULE_NAMES;
    if (!Array.isArray(rules) || rules.length === 0 || !rules.every((r) => (RULE_NAMES as readonly unknown[]).includes(r))) {
      add('rules', 'invalid_value', `must be a list of rule names (${RULE_NAMES.join(', ')})`);
    }
    if (errors.length) throw ApiError.validation(errors);

    const record = { ...stored, ...(input.record as Record<string, unknown> | undefined) };
    const caller = callerFor(auth);
    const body = (input.body as Record<string, unknown> | undefined) ?? {};
    const results = await Promise.all([...new Set(rules as RuleName[])].map((rule) => this.verdict(collection, rule, caller, record, body)));
    return { auth, record, results };
  }

  private async authOf(raw: unknown, add: (field: string, code: string, message: string) => void): Promise<AuthUser | null> {
    if (raw === null || raw === undefined) return null;
    if (!isPlainObject(raw)) {
      add('auth', 'invalid_type', 'must be null (anonymous), {userId} or the fields of a hypothetical user');
      return null;
    }
    if ('userId' in raw) {
      if (typeof raw.userId !== 'string' || raw.userId.length > 64) {
        add('auth.userId', 'invalid_type', 'must be a user id');
        return null;
      }
      const user = await this.users.userById(raw.userId);
      if (!user) add('auth.userId', 'not_found', 'no user has this id');
      return user ?? null;
    }
    // A hypothetical caller: whatever fields the rules should see, with the account fields' defaults.
    const roles = raw.roles ?? [];
    if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) add('auth.roles', 'invalid_type', 'must be a list of role names');
    if (raw.id !== undefined && typeof raw.id !== 'string') add('auth.id', 'invalid_type', 'must be a string');
    return { ...raw, id: (raw.id as string | undefined) ?? '', email: typeof raw.email === 'string' ? raw.email : '', verified: raw.verified === true, roles: roles as string[] };
  }

  private async verdict(collection: CollectionDef, rule: RuleName, caller: Caller, record: ApiRecordValues, body: Record<string, unknown>): Promise<RuleVerdict> {
    const text = collection.rules[rule] ?? null;
    const base = { rule, expression: text };
    if (text === null) return { ...base, allowed: caller.superuser, reason: caller.superuser ? 'superuser' : 'superusers_only', trace: null };
    if (text.trim() === '') return { ...base, allowed: true, reason: caller.superuser ? 'superuser' : 'anyone', trace: null };
    try {
      const trace = await this.trace(collection, text, caller, record, body);
      return { ...base, allowed: caller.superuser || trace.value, reason: caller.superuser ? 'superuser' : 'expression', trace };
    } catch (err) {
      if (!(err instanceof ExprError)) throw err;
      return { ...base, allowed: caller.superuser, reason: caller.superuser ? 'superuser' : 'error', trace: null, error: { message: err.message, position: err.position } };
    }
  }

  /** Evaluates, loading related records a relation path needs (one round per hop), then traces again. */
  private async trace(collection: CollectionDef, text: string, caller: Caller, record: ApiRecordValues, body: Record<string, unknown>): Promise<Trace> {
    const lookups = new RelationLookups();
    const tracer = prepareTrace(parseCached(text), {
      collection,
      resolveCollection: (name) => this.collections.get(name),
      request: { auth: caller.user, body, now: new Date().toISOString() },
      lookup: (name, id) => lookups.get(name, id),
    }, text);
    let trace = tracer(record);
    for (let round = 1; round < LOOKUP_ROUNDS && (await lookups.loadMissing(this.collections, this.loadRecords)); round++) trace = tracer(record);
    return trace;
  }

  /**
   * Whether `expression` is a valid rule of collection `name` — or, with `fields`, of a draft of it
   * with those fields (the editor's unsaved state; the collection need not exist yet). An error is
   * `400 invalid_filter` with the position.
   */
  check(name: string, input: unknown): { ok: true } {
    if (!isPlainObject(input)) throw ApiError.validation([{ field: '', code: 'invalid_type', message: 'must be an object' }]);
    const { expression, fields } = input;
    const unknown = Object.keys(input).filter((key) => key !== 'expression' && key !== 'fields');
    if (typeof expression !== 'string' || unknown.length) {
      throw ApiError.validation([
        ...(typeof expression !== 'string' ? [{ field: 'expression', code: 'invalid_type', message: 'must be a string' }] : []),
        ...unknown.map((key) => ({ field: key, code: 'unknown_property', message: 'is not a member of a rule check' })),
      ]);
    }
    const current = this.collections.get(name);
    let collection: CollectionDef;
    if (fields !== undefined) {
      const resolve = (n: string) => this.collections.get(n);
      collection = validateCollectionInput({ name, fields }, { exists: (n) => resolve(n) !== undefined, current, checkRule: () => undefined });
    } else if (current) collection = current;
    else throw ApiError.notFound(`The collection "${name}"`);
    // "" (anyone) is a valid rule; null is not an expression and never reaches here.
    if (expression.trim() === '') return { ok: true };
    const problem = checkRule(expression, collection, (n) => (n === collection.name ? collection : this.collections.get(n)));
    if (problem) throw new ApiError('invalid_filter', `rule: ${problem.message}`, undefined, { position: problem.position });
    return { ok: true };
  }
}
