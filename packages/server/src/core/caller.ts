// Who is making a request, as core services see it (HTTP resolves it from a token or cookie).

/** The authenticated user as rules see it (`@request.auth.*`): the users record with its account fields. */
export interface AuthUser {
  id: string;
  email: string;
  verified: boolean;
  roles: string[];
  [field: string]: unknown;
}

export interface Caller {
  user: AuthUser | null;
  /** Superusers (role `admin`) pass every rule. */
  superuser: boolean;
}

export const ANONYMOUS: Caller = { user: null, superuser: false };

export function callerFor(user: AuthUser | null): Caller {
  return { user, superuser: !!user && user.roles.includes('admin') };
}
