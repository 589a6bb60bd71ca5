import { z } from 'zod';
import type { User } from '../../entities/index.js';
import type { RequestContext } from '../../services/index.js';
import { restRoute } from '../routes.js';
import { IdParams, idOf, kubportalSchemas } from './schemas.js';
import { GroupJson } from './groups.js';
import { WebAppJson, webAppJson } from './webapps.js';

const TAG = 'Users';
const OTHER_USER = 'The current user is not allowed to get information for the requested user ID.';

const UserJson = z.object({
  firstname: z.string(),
  name: z.string().describe('the last name'),
  username: z.string(),
  primary_email: z.string(),
  all_emails: z.array(z.string()).describe('the alternative emails'),
  admin: z.boolean().describe('a site admin: an admin, or a member of a group that can admin'),
  k8s_serviceaccount: z.string().nullable().describe('`<namespace>:<name>`, as Kubportal writes it; null without an approved account'),
  k8s_namespace: z.string().nullable(),
  k8s_token: z.string().nullable().describe('the token Berth provisioned for the account; null when it provisioned none'),
});
kubportalSchemas.add(UserJson, { id: 'User' });

async function userJson(ctx: RequestContext, user: User): Promise<z.input<typeof UserJson>> {
  const { admin, serviceAccount, namespace, k8sToken } = await ctx.services.users.ownAccount(ctx, user);
  return {
    firstname: user.firstName ?? '',
    name: user.lastName ?? '',
    username: user.username,
    primary_email: user.email,
    all_emails: user.alternativeEmails,
    admin,
    k8s_serviceaccount: serviceAccount && namespace ? `${namespace.name}:${serviceAccount.name}` : null,
    k8s_namespace: namespace?.name ?? null,
    k8s_token: k8sToken,
  };
}

/** The user the path names, if it is the caller (src/services/user.service.ts `ownUser`). */
const ownUser = async (ctx: RequestContext, number: number, unknownForbidden = false) =>
  ctx.services.users.ownUser(ctx, await idOf(ctx, 'users', number), unknownForbidden);

export const userRoutes = [
  restRoute({
    method: 'GET',
    url: '/users/:id/',
    tag: TAG,
    summary: 'Get details for this user.',
    description: 'The caller itself only, site admins included.',
    params: IdParams('user to get'),
    errors: { 403: OTHER_USER, 404: 'no user has this ID' },
    response: UserJson,
    handle: async (ctx, { params }) => userJson(ctx, await ownUser(ctx, params.id)),
  }),
  restRoute({
    method: 'PATCH',
    url: '/users/:id/',
    tag: TAG,
    summary: 'Modify details for this user.',
    description:
      "The caller itself only. `primary_email` is the only writable field and is required; the User's other fields may be sent (a User as read) and are ignored, as read-only. The email must be an email address no other user has (409).",
    params: IdParams('user to change'),
    status: 204,
    errors: {
      400: '`primary_email` missing or not an email address (`{"primary_email": [...]}`)',
      403: 'The current user is not allowed to patch information for the requested user ID.',
      404: 'no user has this ID',
      409: 'another user has this email',
    },
    body: z.object({ primary_email: z.string() }),
    response: z.undefined().describe('Update successful.'),
    handle: async (ctx, { params, body }) => {
      const user = await ownUser(ctx, params.id);
      await ctx.services.users.update(ctx, user.id, { email: body.primary_email });
      return undefined;
    },
  }),
  restRoute({
    method: 'GET',
    url: '/users/:id/webapps/',
    tag: TAG,
    summary: 'Get web apps of this user.',
    description: "The shown web apps of the caller's groups (the automatic ones included), each once; `{{namespace}}` and `{{serviceaccount}}` filled from the caller's service account.",
    params: IdParams('user'),
    errors: { 403: `${OTHER_USER} Any ID but the caller's, one that names no user too.` },
    response: z.array(WebAppJson),
    handle: async (ctx, { params }) => {
      const webApps = await ctx.services.webApps.shownWebAppsOf(ctx, await ownUser(ctx, params.id, true));
      return Promise.all(webApps.map((webApp) => webAppJson(ctx, webApp)));
    },
  }),
  restRoute({
    method: 'GET',
    url: '/users/:id/groups/',
    tag: TAG,
    summary: 'Get groups of this user.',
    description: "The caller's groups, the automatic ones (all accounts, Kubernetes accounts) included.",
    params: IdParams('user'),
    errors: { 403: `${OTHER_USER} Any ID but the caller's, one that names no user too.` },
    response: z.array(GroupJson),
    handle: async (ctx, { params }) => (await ctx.services.groups.groupsOf(ctx, await ownUser(ctx, params.id, true))).map((group) => ({ name: group.name })),
  }),
];
