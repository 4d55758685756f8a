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

/** `POST /auth/login` for an account with MFA: no session yet; `POST /auth/mfa/verify` with a code gives one. */
export interface MfaRequiredResponse {
  mfaRequired: true;
  /** Single use, valid for 5 minutes and 5 wrong codes. */
  ticket: string;
}

/** What `POST /auth/login` answers. */
export type LoginResponse = AuthResponse | MfaRequiredResponse;

/** `GET /auth/mfa`. `pending`: enrolled but not confirmed, so not asked for at sign-in. */
export interface MfaStatus {
  totp: 'off' | 'pending' | 'on';
  recoveryCodesLeft: number;
}

/** `POST /auth/mfa/totp`: what an authenticator app needs; `qrCode` is an SVG data URL. */
export interface TotpEnrolment {
  secret: string;
  otpauthUri: string;
  qrCode: string;
}

/** `GET /auth/sessions`: one of the caller's sessions (`device` is the User-Agent it was opened with). */
export interface SessionInfo {
  id: string;
  device: string | null;
  ip: string | null;
  created: string;
  lastSeen: string;
  expires: string;
  /** The session making this request. */
  current: boolean;
}

/** `GET /auth/api-keys` (superusers): a key, never its secret. */
export interface ApiKey {
  id: string;
  name: string;
  roles: string[];
  created: string;
  expires: string | null;
  lastUsed: string | null;
  createdBy: string | null;
}

/** `POST /auth/api-keys`: `expiresAt` absent or null for a key that does not expire. */
export interface NewApiKey {
  name: string;
  roles: string[];
  expiresAt?: string | null;
}

/** The answer to `POST /auth/api-keys`: the only time the secret (`gk_…`) is shown. */
export interface CreatedApiKey extends ApiKey {
  secret: string;
}
