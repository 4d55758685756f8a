// Lint: typescript-eslint's recommended rules, plus the architecture's one-way dependencies —
// expr and protocol know nothing of the server, core/rules/db know nothing of HTTP, and only
// config/ (and the CLI and test harness that hand the environment to it) read process.env; the SDK
// depends on nothing but the wire types.

import tseslint from 'typescript-eslint';

const HTTP = ['fastify', '@fastify/*', '**/http/**'];
const readsEnv = { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'Only config/ reads process.env: take a GalleyConfig value instead.' };

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'packages/server/src/testing/zz-*'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    files: ['packages/expr/src/**/*.ts', 'packages/protocol/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@galley/server', '**/server/**', 'fastify', 'pg', 'better-sqlite3'], message: 'expr and protocol stand alone: no server, driver or HTTP imports.' }] }],
    },
  },
  {
    // The SDK runs in browsers and React Native: platform globals only, and the shared wire types.
    files: ['packages/sdk/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*', '@galley/server', '**/server/**', '@galley/expr'], message: 'the SDK depends on nothing but @galley/protocol and platform globals.' }] }],
    },
  },
  {
    files: ['packages/server/src/core/**/*.ts', 'packages/server/src/rules/**/*.ts', 'packages/server/src/db/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: HTTP, message: 'core, rules and db know nothing of HTTP.' }] }],
    },
  },
  {
    files: ['packages/server/src/**/*.ts'],
    ignores: ['packages/server/src/config/**', 'packages/server/src/cli/**', 'packages/server/src/testing/**'],
    rules: { 'no-restricted-syntax': ['error', readsEnv] },
  },
  {
    files: ['**/test/**/*.ts', 'packages/server/src/testing/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
