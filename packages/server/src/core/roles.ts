// Role names as users and API keys carry them: `admin` makes a superuser; rules read the others
// through `@request.auth.roles`.

import type { FieldError } from '@galley/protocol';

const ROLE_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;
const MAX_ROLES = 20;

/** A list of role names as users and API keys carry them (duplicates dropped); problems go to `errors`. */
export function validateRoles(roles: unknown, errors: FieldError[], field = 'roles'): string[] {
  if (!Array.isArray(roles) || roles.length > MAX_ROLES || !roles.every((r) => typeof r === 'string' && ROLE_PATTERN.test(r))) {
    errors.push({ field, code: 'invalid_value', message: `must be at most ${MAX_ROLES} role names (${ROLE_PATTERN.source})` });
    return [];
  }
  return [...new Set(roles as string[])];
}
