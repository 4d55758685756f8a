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

/** A password login for a user with a second factor: no session yet; `POST /mfa/verify` completes it. */
export interface MfaChallenge {
  mfaRequired: true;
  ticket: string;
}

/** `GET /api/v1/auth/mfa`. */
export interface MfaStatus {
  totp: 'off' | 'pending' | 'on';
  recoveryCodesLeft: number;
}

/** `POST /api/v1/auth/mfa/totp`: a pending enrolment; `qrCode` is an SVG `data:` URL for an `<img>`. */
export interface TotpEnrolment {
  secret: string;
  otpauthUri: string;
  qrCode: string;
}
