// /api/v1/auth/mfa: TOTP enrolment (with a QR code for the dashboard), confirmation, turning it
// off, recovery codes, and the second step of a sign-in (`POST /mfa/verify`).

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { ApiError } from '../../core/api-error.ts';
import { isApiKeyCaller } from '../../core/api-keys.ts';
import type { AuthUser } from '../../core/caller.ts';
import type { MfaService } from '../../core/mfa.ts';
import type { SignInService } from '../../core/sign-in.ts';
import { sendSession, sessionMeta } from '../session.ts';

/** A TOTP code (6 digits) or a recovery code (`xxxxx-xxxxx`), with room for spaces a user types. */
const CODE = { type: 'string', minLength: 1, maxLength: 32 } as const;
const codeBody = { type: 'object', required: ['code'], properties: { code: CODE }, additionalProperties: false } as const;
const verifyBody = {
  type: 'object',
  required: ['ticket', 'code'],
  properties: { ticket: { type: 'string', minLength: 1, maxLength: 200 }, code: CODE },
  additionalProperties: false,
} as const;

function signedInUser(request: FastifyRequest): AuthUser {
  if (!request.caller.user) throw new ApiError('unauthenticated', 'sign in first');
  // A second factor belongs to a person's account; an API key has neither.
  if (isApiKeyCaller(request.caller.user)) throw new ApiError('forbidden', 'API keys have no second factor: sign in as a user');
  return request.caller.user;
}

/** Secrets and recovery codes must not linger in a cache. */
const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

export async function mfaRoutes(app: FastifyInstance, deps: { mfa: MfaService; signIn: SignInService; secureCookies: boolean }): Promise<void> {
  const { mfa } = deps;

  app.get('/api/v1/auth/mfa', async (request, reply) => {
    const user = signedInUser(request);
    noStore(reply);
    return mfa.status(user.id);
  });

  app.post('/api/v1/auth/mfa/totp', async (request, reply) => {
    const enrolment = await mfa.beginTotp(signedInUser(request), sessionMeta(request));
    // An SVG data URL: the dashboard shows it as an <img> without a QR library of its own.
    const svg = await QRCode.toString(enrolment.otpauthUri, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' });
    noStore(reply);
    return { ...enrolment, qrCode: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
  });

  app.post('/api/v1/auth/mfa/totp/confirm', { schema: { body: codeBody } }, async (request, reply) => {
    const { code } = request.body as { code: string };
    const recoveryCodes = await mfa.confirmTotp(signedInUser(request).id, code, sessionMeta(request));
    noStore(reply);
    return { recoveryCodes };
  });

  app.delete('/api/v1/auth/mfa/totp', { schema: { body: codeBody } }, async (request, reply) => {
    const { code } = request.body as { code: string };
    await mfa.disable(signedInUser(request).id, code, sessionMeta(request));
    return reply.code(204).send();
  });

  app.post('/api/v1/auth/mfa/recovery-codes', { schema: { body: codeBody } }, async (request, reply) => {
    const { code } = request.body as { code: string };
    const recoveryCodes = await mfa.regenerateRecoveryCodes(signedInUser(request).id, code, sessionMeta(request));
    noStore(reply);
    return { recoveryCodes };
  });

  app.post('/api/v1/auth/mfa/verify', { schema: { body: verifyBody } }, async (request, reply) => {
    const { ticket, code } = request.body as { ticket: string; code: string };
    const session = await deps.signIn.verifySecondFactor(ticket, code, sessionMeta(request));
    return sendSession(reply, session, deps.secureCookies);
  });
}
