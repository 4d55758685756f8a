// @galley/expr: Galley's filter and rule language — scanner, parser and syntax tree. No SQL here:
// the server compiles the tree per database, and evaluates it in memory.
export type * from './ast.ts';
export { ExprError } from './errors.ts';
export { MAX_LENGTH, tokenize, type Token, type TokenKind } from './lexer.ts';
export { MAX_DEPTH, MAX_NODES, MAX_PATH, parseExpression } from './parser.ts';
