import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { AuthTokens } from '../../services/auth.service.js';
import type { RequestContext } from '../../services/index.js';
import { setCookie } from '../cookies.js';
import { restRoute } from '../routes.js';
import { loginRefused } from './errors.js';
import { requiredString, SignedIn } from './schemas.js';

const TAG = 'Sessions';

/** Porter's session cookie (its COOKIE_NAME's default), kept 30 days as Porter kept it; the session in it lives in PostgreSQL. */
export const SESSION_COOKIE = 'porter';
const SESSION_SECONDS = 30 * 24 * 3600;

/** Hands the session a login or a sign-up opened to the browser: its own token, the cookie's value on every request. */
export async function signedIn(ctx: RequestContext, reply: FastifyReply, tokens: AuthTokens): Promise<z.input<typeof SignedIn>> {
  setCookie(reply, SESSION_COOKIE, tokens.refreshToken, { maxAge: SESSION_SECONDS });
  return { id: await ctx.services.numericAliases.numberOf(ctx, 'users', tokens.user.id), email: tokens.user.email };
}

export const authRoutes = [
  restRoute({
    method: 'POST',
    url: '/login',
    tag: TAG,
    summary: 'Log in: the session is set in the `porter` cookie',
    description:
      'By email, or by Berth username in `email`. Throttled as every Berth login is. Answers who logged in (Porter answered nothing): how a client learns its id.',
    access: 'public',
    body: z.object({ email: requiredString().describe('the email, or the Berth username'), password: requiredString() }),
    errors: {
      401: 'code 401: the email (or username) and password do not match a user, the same words either way; or the user is inactive',
      422: '601 "required validation failed": a field missing or empty',
      429: 'code 429, with Retry-After: too many failed logins for this email or from this address',
    },
    response: SignedIn,
    handle: async (ctx, { body }, reply) => signedIn(ctx, reply, await ctx.services.auth.login(ctx, body.email, body.password).catch(loginRefused)),
  }),
  restRoute({
    method: 'POST',
    url: '/logout',
    tag: TAG,
    summary: "End the caller's session, and clear its cookie",
    description: 'The session ends in the database: its cookie no longer works, also where a copy of it is kept.',
    response: z.undefined(),
    handle: async (ctx, _request, reply) => {
      await ctx.services.auth.logout(ctx);
      return void setCookie(reply, SESSION_COOKIE, '', { maxAge: 0 });
    },
  }),
];
