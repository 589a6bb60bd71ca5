import { z } from 'zod';
import { badInput } from '../../errors/domain-error.js';
import { cookieOf } from '../../request/identity.js';
import { setCookie } from '../cookies.js';
import { restRoute } from '../routes.js';
import { BotJson, botJson } from './bots.js';
import { platzSchemas } from './schemas.js';
import { UserJson, userJson } from './users.js';

const TAG = 'Auth';

/** Who the caller is, externally tagged as Platz writes it. */
const MeResponse = z.union([
  z.object({ User: UserJson }),
  z.object({ Bot: BotJson }),
  z.object({ Deployment: z.object({ id: z.guid(), name: z.string() }) }),
]);
platzSchemas.add(MeResponse, { id: 'MeResponse' });

/**
 * The login's state, kept by the browser that started it: Platz's frontend sends the callback only the code, and the
 * state (which finds the login's PKCE verifier, and proves the browser that comes back is the one that left) returns
 * with this cookie. Scoped to the two routes, unreadable by scripts, and gone after 10 minutes, as the login.
 */
const STATE_COOKIE = 'berth_sso_state';
const COOKIE_PATH = '/api/v2/auth/google';
const LOGIN_SECONDS = 600;

export const authRoutes = [
  restRoute({
    method: 'GET',
    url: '/auth/me',
    tag: TAG,
    summary: 'The caller: a user, a bot or a deployment',
    response: MeResponse,
    handle: async (ctx) => {
      const identity = ctx.services.auth.me(ctx);
      if (identity.kind === 'user') return { User: userJson(identity.user) };
      if (identity.kind === 'bot') return { Bot: botJson(identity.bot) };
      return { Deployment: { id: identity.deployment.id, name: identity.deployment.name } };
    },
  }),
  restRoute({
    method: 'GET',
    url: '/auth/google',
    tag: TAG,
    summary: 'Start a single sign-on login: where to send the browser',
    description:
      "Any OpenID Connect provider (OIDC_ISSUER_URL), despite the path. Sets a cookie holding the login's state for the callback; 403 when single sign-on is not configured.",
    access: 'public',
    errors: { 403: 'single sign-on is not configured', 401: 'the provider could not be reached' },
    response: z.object({ redirect_url: z.string().describe("the provider's authorization URL for this login") }),
    handle: async (ctx, _request, reply) => {
      const { authorizationUrl, state } = await ctx.services.singleSignOn.start(ctx);
      setCookie(reply, STATE_COOKIE, state, { path: COOKIE_PATH, maxAge: LOGIN_SECONDS });
      return { redirect_url: authorizationUrl };
    },
  }),
  restRoute({
    method: 'POST',
    url: '/auth/google/callback',
    tag: TAG,
    summary: 'Finish a single sign-on login with the code the provider sent back',
    description:
      "The login's state comes from the cookie GET /auth/google set, or from `state` in the body. A user is found by its provider identity, else by email, else created (an admin when its email is in OIDC_ADMIN_EMAILS). 401 for an inactive user or a login that expired.",
    access: 'public',
    errors: { 401: 'an inactive user, a login that expired or was used already, or a code the provider refused', 403: 'single sign-on is not configured' },
    body: z.object({
      auth_code: z.string().describe('the `code` the provider sent to the redirect URI'),
      state: z.string().optional().describe('the `state` the provider sent back; by default the cookie of GET /auth/google'),
    }),
    response: z.object({ access_token: z.string().describe('a JWT for `Authorization: Bearer`') }),
    handle: async (ctx, { body, headers }, reply) => {
      const state = body.state ?? cookieOf(headers.cookie, STATE_COOKIE);
      if (!state) throw badInput('state', `state must be sent in the body, or come back in the cookie GET ${COOKIE_PATH} set`);
      const { accessToken } = await ctx.services.singleSignOn.finish(ctx, body.auth_code, state);
      setCookie(reply, STATE_COOKIE, '', { path: COOKIE_PATH, maxAge: 0 });
      return { access_token: accessToken };
    },
  }),
];
