import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { badInput, DomainError, ErrorCode } from '../../errors/domain-error.js';
import type { AuthTokens } from '../../services/auth.service.js';
import type { RequestContext } from '../../services/index.js';
import { restRoute } from '../routes.js';
import { kubportalSchemas } from './schemas.js';

const TAG = 'Authentication';

/** The API version every route's path names. */
export const KUBPORTAL_API_VERSION = 'v1.4.0' as const;

const BootstrapSuccess = z.object({
  csrf_token: z.string().describe('a fresh random value: this API takes no cookie credential, so no request needs it'),
  portal_version: z.string().describe("Berth's version, `v` first"),
  default_api_version: z.literal(KUBPORTAL_API_VERSION),
});
kubportalSchemas.add(BootstrapSuccess, { id: 'BootstrapSuccess' });

const LoginSuccess = z.object({
  id: z.number().int().describe("the user's ID"),
  firstname: z.string(),
  access_token: z.string().describe('a JWT for `Authorization: Bearer`, valid for ACCESS_TOKEN_TTL_SECONDS; there is no refresh token'),
});
kubportalSchemas.add(LoginSuccess, { id: 'LoginSuccess' });

const LogoutSuccess = z.object({ detail: z.string() });

/** A login refused for its credentials is a 400 with `non_field_errors`, as dj-rest-auth answers it. */
async function loginOrInvalid(login: Promise<AuthTokens>, prefix = ''): Promise<AuthTokens> {
  try {
    return await login;
  } catch (err) {
    if (err instanceof DomainError && (err.code === ErrorCode.UNAUTHENTICATED || err.code === ErrorCode.FORBIDDEN)) throw badInput('non_field_errors', prefix + err.message);
    throw err;
  }
}

const loginSuccess = async (ctx: RequestContext, { user, accessToken }: AuthTokens): Promise<z.input<typeof LoginSuccess>> => ({
  id: await ctx.services.numericAliases.numberOf(ctx, 'users', user.id),
  firstname: user.firstName ?? '',
  access_token: accessToken,
});

/** `GET /api/`, outside the versioned prefix, as Kubportal serves it. */
export const bootstrapRoute = restRoute({
  method: 'GET',
  url: '/api/',
  tag: TAG,
  summary: 'Get bootstrap information for talking to the API.',
  access: 'public',
  response: BootstrapSuccess,
  handle: async (ctx) => ({
    csrf_token: randomBytes(32).toString('base64url'),
    portal_version: `v${ctx.services.serverInfo.info().version}`,
    default_api_version: KUBPORTAL_API_VERSION,
  }),
});

export const authRoutes = [
  restRoute({
    method: 'POST',
    url: '/login/',
    tag: TAG,
    summary: 'Authorize an user with name and password',
    description: 'A JSON object (not an array): `username` (or `email`) and `password`. Refused credentials are a 400 naming no field; too many failed attempts a 429.',
    access: 'public',
    errors: { 400: 'a field missing, or credentials that are refused (`non_field_errors`)', 429: 'too many failed logins for this username or address; Retry-After says when to try again' },
    body: z.object({ username: z.string().optional(), email: z.string().optional(), password: z.string() }),
    response: LoginSuccess,
    handle: async (ctx, { body }) => {
      const login = body.username ?? body.email;
      if (login === undefined) throw badInput('non_field_errors', 'Must include "username" and "password".');
      return loginSuccess(ctx, await loginOrInvalid(ctx.services.auth.login(ctx, login, body.password)));
    },
  }),
  restRoute({
    method: 'POST',
    url: '/login_google/',
    tag: TAG,
    summary: 'Authorize a Google user with OAuth credentials',
    description:
      "An access token the client obtained from Berth's single sign-on provider (OIDC_ISSUER_URL: Google or any other), checked at the provider's userinfo endpoint. The user is found by its provider identity, else by email, else created. 400 when the provider refuses the token, or single sign-on is not configured.",
    access: 'public',
    errors: { 400: 'Invalid credentials, login denied (`non_field_errors` says why), or no `access_token`' },
    body: z.object({ access_token: z.string().describe("an access token from the provider, for its userinfo endpoint") }),
    response: LoginSuccess,
    handle: async (ctx, { body }) =>
      loginSuccess(ctx, await loginOrInvalid(ctx.services.singleSignOn.signInWithAccessToken(ctx, body.access_token), 'Invalid credentials: ')),
  }),
  ...(['GET', 'POST'] as const).map((method) =>
    restRoute({
      method,
      url: '/logout/',
      tag: TAG,
      summary: 'Invalidate API login session.',
      description: "Ends the session of the access token sent, if any: that token, and every other of its login, stops working. Answers 200 to any caller, as Kubportal's.",
      access: 'public',
      response: LogoutSuccess,
      handle: async (ctx) => {
        await ctx.services.auth.logoutIfSignedIn(ctx);
        return { detail: 'Successfully logged out.' };
      },
    }),
  ),
];
