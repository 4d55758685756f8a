// The OpenAPI side of the sign-in steps beyond a password (contract §3): MFA enrolment and the
// `mfaRequired` step, and OAuth / OpenID Connect sign-in, with the schemas they use.
// fixed-paths.ts merges these into the document.

import { RECOVERY_CODE_COUNT } from '../../core/mfa.ts';
import { OAUTH_FLOW_TTL_MS } from '../../core/oauth.ts';
import { MFA_TICKET_ATTEMPTS, MFA_TICKET_TTL_MS } from '../../core/sign-in.ts';
import { errorResponses, ref, type OpenApiObject } from './problems.ts';
import { jsonContent, REQUIRED_AUTH } from './record-paths.ts';

const CODE = { type: 'string', minLength: 1, maxLength: 32, description: 'A 6-digit TOTP code, or a recovery code (`xxxxx-xxxxx`; case, spaces and the dash do not matter).' };
const RECOVERY_CODES = {
  type: 'object',
  required: ['recoveryCodes'],
  properties: {
    recoveryCodes: {
      type: 'array', minItems: RECOVERY_CODE_COUNT, maxItems: RECOVERY_CODE_COUNT, items: { type: 'string', pattern: '^[a-km-np-z2-9]{5}-[a-km-np-z2-9]{5}$' },
      description: 'Shown once: each works once in place of a TOTP code. Any earlier codes stop working.',
    },
  },
  examples: [{ recoveryCodes: ['k3x9p-m7q2w', 'a8d4f-c6b2e', 'h3j5n-r2t8v', 'p4s6u-x9z2b', 'c5e7g-j2k4m', 'n6q8s-u3w5y', 'z7b9d-f2h4j', 'k5m7p-r9t2v', 'w3y5a-c7e9g', 'j2k4m-n6p8q'] }],
};

export function signInSchemas(): Record<string, OpenApiObject> {
  return {
    MfaRequired: {
      type: 'object',
      required: ['mfaRequired', 'ticket'],
      description: `The password was right, but this account has MFA: no session yet. Send the ticket with a code to \`POST /api/v1/auth/mfa/verify\` within ${MFA_TICKET_TTL_MS / 60_000} minutes (${MFA_TICKET_ATTEMPTS} attempts).`,
      properties: { mfaRequired: { type: 'boolean', const: true }, ticket: { type: 'string', description: 'Single use, short-lived.' } },
      examples: [{ mfaRequired: true, ticket: 'q4Jz7m1fK2p0Xc9vR5tB8nW3yL6hD0sA1eG4uI7oP2k' }],
    },
    MfaStatus: {
      type: 'object',
      required: ['totp', 'recoveryCodesLeft'],
      properties: {
        totp: { type: 'string', enum: ['off', 'pending', 'on'], description: '`pending`: enrolled but not confirmed, so not asked for at sign-in.' },
        recoveryCodesLeft: { type: 'integer', minimum: 0 },
      },
      examples: [{ totp: 'on', recoveryCodesLeft: 9 }],
    },
    TotpEnrolment: {
      type: 'object',
      required: ['secret', 'otpauthUri', 'qrCode'],
      properties: {
        secret: { type: 'string', description: 'Base32, for typing into an authenticator app by hand.' },
        otpauthUri: { type: 'string', description: 'The `otpauth://totp/…` URI that QR codes carry.' },
        qrCode: { type: 'string', description: 'The URI as a QR code: an SVG `data:` URL, usable as an `<img src>`.' },
      },
      examples: [{ secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', otpauthUri: 'otpauth://totp/Galley:ada%40example.com?issuer=Galley&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30', qrCode: 'data:image/svg+xml;base64,PHN2Zy8+' }],
    },
    MfaCode: { type: 'object', required: ['code'], properties: { code: CODE }, additionalProperties: false, examples: [{ code: '492039' }] },
    MfaVerification: {
      type: 'object',
      required: ['ticket', 'code'],
      properties: { ticket: { type: 'string', maxLength: 200 }, code: CODE },
      additionalProperties: false,
      examples: [{ ticket: 'q4Jz7m1fK2p0Xc9vR5tB8nW3yL6hD0sA1eG4uI7oP2k', code: '492039' }],
    },
    RecoveryCodes: RECOVERY_CODES,
    OAuthProviders: {
      type: 'object',
      required: ['providers'],
      properties: { providers: { type: 'array', items: { type: 'string' }, description: 'Names for `GET /api/v1/auth/oauth/{provider}`.' } },
      examples: [{ providers: ['github', 'google'] }],
    },
  };
}

const codeBody = { required: true, content: jsonContent(ref('schemas', 'MfaCode')) };

const PROVIDER_PARAMETER = { name: 'provider', in: 'path', required: true, schema: { type: 'string', maxLength: 64 }, description: 'The lower-cased NAME of `GALLEY_OAUTH_<NAME>_*`, or `github`.' };
const REDIRECT_STATUS = { description: 'Off to the next step: see `Location`.', headers: { Location: { schema: { type: 'string' } } } };

export function signInPaths(): Record<string, OpenApiObject> {
  return {
    '/api/v1/auth/oauth': {
      get: {
        operationId: 'listOAuthProviders', tags: ['OAuth'], summary: 'The configured sign-in providers', security: [{}],
        responses: { 200: { description: 'Their names.', content: jsonContent(ref('schemas', 'OAuthProviders')) }, ...errorResponses() },
      },
    },
    '/api/v1/auth/oauth/{provider}': {
      parameters: [PROVIDER_PARAMETER],
      get: {
        operationId: 'startOAuth', tags: ['OAuth'], summary: 'Start signing in with a provider (open in the browser, not with fetch)', security: [{}],
        description:
          `Redirects to the provider with state, nonce and a PKCE challenge; the flow state travels in the HttpOnly \`galley_oauth\` cookie for ${OAUTH_FLOW_TTL_MS / 60_000} minutes. ` +
          '`redirect` must be a path on this server or a URL on an allowed origin (`GALLEY_ALLOWED_ORIGINS`); anything else is `400 bad_request` before leaving.',
        parameters: [{ name: 'redirect', in: 'query', schema: { type: 'string', maxLength: 2048, default: '/' }, description: 'Where the browser ends up after signing in.' }],
        responses: { 302: REDIRECT_STATUS, ...errorResponses(400, 404) },
      },
    },
    '/api/v1/auth/oauth/{provider}/callback': {
      parameters: [PROVIDER_PARAMETER],
      get: {
        operationId: 'finishOAuth', tags: ['OAuth'], summary: 'Where the provider sends the browser back', security: [{}],
        description:
          'Checks the state against the `galley_oauth` cookie, exchanges the code (with the PKCE verifier), validates the ID token and its nonce. ' +
          'Then a `302` to `redirect` with the `galley_session` cookie — or, for an account with MFA, with `#mfaRequired=true&ticket=…` in the fragment and no session (finish with `POST /api/v1/auth/mfa/verify`). ' +
          'A failed check is `400 oauth_failed`; an email the provider does not mark verified is `403 forbidden`; an existing account that has not verified that email is `409 conflict` (`email_unverified`).',
        responses: { 302: { ...REDIRECT_STATUS, headers: { Location: { schema: { type: 'string' } }, 'Set-Cookie': ref('headers', 'SetCookie') } }, ...errorResponses(400, 403, 404, 409) },
      },
    },
    '/api/v1/auth/mfa': {
      get: {
        operationId: 'getMfaStatus', tags: ['MFA'], summary: 'Whether the caller has MFA on', security: REQUIRED_AUTH,
        responses: { 200: { description: 'The state of each factor.', content: jsonContent(ref('schemas', 'MfaStatus')) }, ...errorResponses(401) },
      },
    },
    '/api/v1/auth/mfa/totp': {
      post: {
        operationId: 'enrolTotp', tags: ['MFA'], summary: 'Start TOTP enrolment', security: REQUIRED_AUTH,
        description: 'A fresh secret, pending until confirmed with a code from the app (a pending enrolment is not asked for at sign-in). `409 conflict` while TOTP is on.',
        responses: { 200: { description: 'The secret, its otpauth URI and a QR code.', content: jsonContent(ref('schemas', 'TotpEnrolment')) }, ...errorResponses(401, 403, 409) },
      },
      delete: {
        operationId: 'disableTotp', tags: ['MFA'], summary: 'Turn TOTP off (and drop the recovery codes)', security: REQUIRED_AUTH,
        description: 'Needs a current code, so a stolen session alone cannot turn MFA off.',
        requestBody: codeBody,
        responses: { 204: { description: 'MFA is off.' }, ...errorResponses(400, 401, 403, 404, 415) },
      },
    },
    '/api/v1/auth/mfa/totp/confirm': {
      post: {
        operationId: 'confirmTotp', tags: ['MFA'], summary: 'Confirm TOTP enrolment with a code from the app', security: REQUIRED_AUTH,
        description: 'From now on a sign-in asks for a code. A wrong code is `401 invalid_credentials` and changes nothing.',
        requestBody: codeBody,
        responses: { 200: { description: 'MFA is on: the recovery codes, shown once.', content: jsonContent(ref('schemas', 'RecoveryCodes')) }, ...errorResponses(400, 401, 403, 409, 415) },
      },
    },
    '/api/v1/auth/mfa/recovery-codes': {
      post: {
        operationId: 'regenerateRecoveryCodes', tags: ['MFA'], summary: 'Replace the recovery codes', security: REQUIRED_AUTH,
        requestBody: codeBody,
        responses: { 200: { description: 'New codes; the old ones stop working.', content: jsonContent(ref('schemas', 'RecoveryCodes')) }, ...errorResponses(400, 401, 403, 404, 415) },
      },
    },
    '/api/v1/auth/mfa/verify': {
      post: {
        operationId: 'verifyMfa', tags: ['MFA'], summary: 'Second step of a sign-in: the ticket and a code', security: [{}],
        description:
          'A TOTP code is accepted once (a replayed code is refused) and a recovery code is used up. A wrong code is `401 invalid_credentials`; ' +
          'an unknown, used or expired ticket (or one with too many wrong codes) is `401 unauthenticated`: sign in again.',
        requestBody: { required: true, content: jsonContent(ref('schemas', 'MfaVerification')) },
        responses: {
          200: { description: 'Signed in, as after a password login.', headers: { 'Set-Cookie': ref('headers', 'SetCookie') }, content: jsonContent(ref('schemas', 'Session')) },
          ...errorResponses(400, 401, 403, 413, 415, 429),
        },
      },
    },
  };
}
