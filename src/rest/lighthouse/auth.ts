import { z } from 'zod';
import { DomainError, ErrorCode, unauthenticated } from '../../errors/domain-error.js';
import { setCookie } from '../cookies.js';
import { restRoute } from '../routes.js';
import { Empty } from './schemas.js';

const TAG = 'Auth';

/** Lighthouse's session cookie: it holds the session's own token (src/request/identity.ts, `sessionCookie`). */
export const SESSION_COOKIE = 'auth';

export const authRoutes = [
  restRoute({
    method: 'POST',
    url: '/login',
    tag: TAG,
    summary: 'Log in: a session, in the `auth` cookie',
    description: 'By email (or username). The cookie holds the session until it expires or GET /logout ends it.',
    access: 'public',
    body: z.object({ Email: z.string(), Password: z.string() }),
    errors: { 401: 'email or password incorrect', 429: 'too many failed attempts: try again after Retry-After seconds' },
    response: Empty,
    handle: async (ctx, { body }, reply) => {
      const session = await ctx.services.auth.login(ctx, body.Email, body.Password).catch((err: unknown) => {
        // Lighthouse's one word for any refused login, which tells no one whether the user exists
        throw err instanceof DomainError && (err.code === ErrorCode.UNAUTHENTICATED || err.code === ErrorCode.BAD_USER_INPUT) ? unauthenticated('email or password incorrect') : err;
      });
      setCookie(reply, SESSION_COOKIE, session.refreshToken);
      return undefined;
    },
  }),
  restRoute({
    method: 'GET',
    url: '/logout',
    tag: TAG,
    summary: 'Log out: the session ends, and the cookie with it',
    description: '200 also without a session, as Lighthouse.',
    access: 'public',
    response: Empty,
    handle: async (ctx, _request, reply) => {
      if (ctx.identity.kind === 'user' && ctx.identity.sessionId) await ctx.services.auth.logout(ctx);
      setCookie(reply, SESSION_COOKIE, '', { maxAge: 0 });
      return undefined;
    },
  }),
];
