import { z } from 'zod';
import type { DeploymentPermission } from '../../entities/index.js';
import { UserDeploymentRole } from '../../entities/enums.js';
import { restRoute } from '../routes.js';
import { deleteUserGrant, EnvIdQuery, grantJson, userGrant } from './env-user-permissions.js';
import { IdParams, pageOf, platzSchemas, readPage, Timestamp, Uuid } from './schemas.js';

const TAG = 'Deployment permissions';

const DeploymentPermissionJson = z.object({
  id: z.guid(),
  created_at: Timestamp,
  env_id: z.guid(),
  user_id: z.guid(),
  kind_id: z.guid(),
  role: z.enum(UserDeploymentRole),
});
platzSchemas.add(DeploymentPermissionJson, { id: 'DeploymentPermission' });

const deploymentPermissionJson = (p: DeploymentPermission): z.input<typeof DeploymentPermissionJson> => ({ ...grantJson(p), kind_id: p.kind.id, role: p.role });

export const deploymentPermissionRoutes = [
  restRoute({
    method: 'GET',
    url: '/deployment-permissions',
    tag: TAG,
    summary: "Users' roles on a kind of deployment, in the envs the caller may see",
    description: 'Site admins see every env; other callers the envs they hold a role in. Oldest first.',
    query: EnvIdQuery,
    response: pageOf(DeploymentPermissionJson),
    handle: (ctx, { query }) => readPage(ctx, ctx.services.deploymentPermissions, { envId: query.env_id, usersOnly: true }, query, deploymentPermissionJson),
  }),
  restRoute({
    method: 'GET',
    url: '/deployment-permissions/:id',
    tag: TAG,
    summary: "A user's role on a kind of deployment in an env",
    description: 'One in an env the caller may not see is not found, as a missing one.',
    params: IdParams,
    response: DeploymentPermissionJson,
    handle: async (ctx, { params }) => deploymentPermissionJson(await userGrant(ctx.services.deploymentPermissions.findById(ctx, params.id), 'DeploymentPermission')),
  }),
  restRoute({
    method: 'POST',
    url: '/deployment-permissions',
    tag: TAG,
    summary: 'Give a user a role on a kind of deployment in an env',
    description: "The env's Admins and site admins; a user holds one role per kind and env (409 for a second). Owners create and delete deployments of the kind; Maintainers change them.",
    body: z.object({ env_id: Uuid, user_id: Uuid, kind_id: Uuid, role: z.enum(UserDeploymentRole) }),
    status: 201,
    response: DeploymentPermissionJson,
    handle: async (ctx, { body }) =>
      deploymentPermissionJson(await ctx.services.deploymentPermissions.create(ctx, { envId: body.env_id, userId: body.user_id, kindId: body.kind_id, role: body.role })),
  }),
  restRoute({
    method: 'DELETE',
    url: '/deployment-permissions/:id',
    tag: TAG,
    summary: "Take a user's role on a kind of deployment away",
    description: "The env's Admins and site admins.",
    params: IdParams,
    status: 204,
    response: z.undefined(),
    handle: (ctx, { params }) => deleteUserGrant(ctx, ctx.services.deploymentPermissions, params.id, 'DeploymentPermission'),
  }),
];
