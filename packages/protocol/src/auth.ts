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
