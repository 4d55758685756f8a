// Account shapes of contract.md §3.

/** A signed-in user as `/api/v1/auth` returns it: never a password hash. */
export interface User {
  id: string;
  email: string;
  verified: boolean;
  roles: string[];
  [field: string]: unknown;
}

/** The answer of a successful login: the user and an opaque session token (also set as a cookie). */
export interface AuthResponse {
  user: User;
  token: string;
}
