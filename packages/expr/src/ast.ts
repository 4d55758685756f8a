// The syntax tree of a filter or rule. Every node knows where it came from (`start`, `end`),
// so later stages (type checks, SQL compilation) can point at the offending text.

export type CompareOp = '=' | '!=' | '>' | '>=' | '<' | '<=' | '~' | '!~';

export interface Span {
  start: number;
  end: number;
}

/** `title`, `author.name`: a field of the record, possibly through relations. */
export interface FieldRef extends Span {
  kind: 'field';
  path: string[];
}

/** `@request.auth.id`, `@request.body.status`: a value of the request. */
export interface RequestRef extends Span {
  kind: 'request';
  source: 'auth' | 'body';
  path: string[];
}

export interface Literal extends Span {
  kind: 'literal';
  value: string | number | boolean | null;
}

/** `@now`: the time of the request. */
export interface NowRef extends Span {
  kind: 'now';
}

export type Operand = FieldRef | RequestRef | Literal | NowRef;

export interface Comparison extends Span {
  kind: 'compare';
  op: CompareOp;
  /** `?=`, `?~` …: true when any element of a multi-value operand satisfies `op`. */
  any: boolean;
  /** Offset of the operator, where operator type errors point. */
  opStart: number;
  left: Operand;
  right: Operand;
}

export interface Logical extends Span {
  kind: 'and' | 'or';
  left: Expr;
  right: Expr;
}

export interface Not extends Span {
  kind: 'not';
  expr: Expr;
}

/** A bare `true` or `false`. */
export interface Constant extends Span {
  kind: 'constant';
  value: boolean;
}

export type Expr = Comparison | Logical | Not | Constant;
