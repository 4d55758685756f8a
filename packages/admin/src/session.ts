// Who is signed in, for the whole dashboard: `useSession()` reads GET /auth/me through TanStack
// Query; signing in and out updates that one cache entry, so every screen follows.

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { GalleyError, type User } from '@galley/sdk';
import { galley } from './client.ts';

const SESSION_KEY = ['session'] as const;
export const SETUP_KEY = ['setup'] as const;

/** True while the server has no superuser (the first run); asked only when nobody is signed in. */
export function useNeedsSuperuser(enabled: boolean) {
  return useQuery({ queryKey: SETUP_KEY, queryFn: ({ signal }) => galley.setup.needsSuperuser({ signal }), enabled, staleTime: Infinity });
}

/** The signed-in user, or null when nobody is (a 401 is an answer, not an error). */
export function useSession() {
  return useQuery({
    queryKey: SESSION_KEY,
    queryFn: async (): Promise<User | null> => {
      try {
        return await galley.auth.me();
      } catch (err) {
        if (err instanceof GalleyError && err.status === 401) return null;
        throw err;
      }
    },
    staleTime: Infinity,
  });
}

export type SignInStep = { done: true; user: User } | { done: false; ticket: string };

/**
 * The first step of a sign-in. A user with MFA gets `{mfaRequired, ticket}` and no session yet;
 * the second step is `verifySecondFactor`.
 */
export async function signIn(email: string, password: string): Promise<SignInStep> {
  const answer: { user?: User; mfaRequired?: boolean; ticket?: string } = await galley.auth.login(email, password);
  if (answer.mfaRequired && answer.ticket) return { done: false, ticket: answer.ticket };
  return { done: true, user: answer.user! };
}

/** POST /auth/mfa/verify: a TOTP or recovery code turns the ticket into a session (contract §3). */
export async function verifySecondFactor(ticket: string, code: string): Promise<User> {
  const answer = await galley.request<{ user: User }>('POST', '/api/v1/auth/mfa/verify', { body: { ticket, code } });
  return answer.user;
}

export function useSessionUpdate() {
  const client = useQueryClient();
  return {
    signedIn: (user: User) => client.setQueryData(SESSION_KEY, user),
    async signOut() {
      await galley.auth.logout().catch(() => {});
      // Nothing read as this user may be shown to the next one.
      client.clear();
      client.setQueryData(SESSION_KEY, null);
    },
  };
}

export const isSuperuser = (user: User) => user.roles.includes('admin');
