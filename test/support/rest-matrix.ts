import {
  Bot, BotToken, Deployment, DeploymentKind, DeploymentPermission, DeploymentResource, DeploymentResourceType, DeploymentTask, Env,
  EnvUserPermission, HelmRegistry, HelmTagFormat, K8sCluster, Secret, User, UserToken,
} from '../../src/entities/index.js';
import { EnvUserRole, HelmRegistryProvider, UserDeploymentRole } from '../../src/entities/enums.js';
import { build, unique } from './fixtures.js';
import { matrixFixtures } from './matrix-fixtures.js';
import type { MutationCase } from './matrix-mutations.js';
import { AUTHENTICATED, type Who, type World } from './matrix-world.js';
import type { TestServer } from './server.js';

/**
 * The REST rows of the authorization matrix (test/authorization-matrix-rest.test.ts): one or more per route, keyed
 * `METHOD /path` as the OpenAPI document writes it (`PUT /api/v2/envs/{id}`). A served route without a row fails the
 * test. Three kinds of row:
 *
 * - `read`: a list route (`GET /api/v2/envs`) or a by-id route (`GET /api/v2/envs/{id}`) showing rows of a GraphQL
 *   type of the matrix world (`'Env'`): the list shows exactly the ids GraphQL's list shows that caller; by id, a row
 *   in scope is 200 and one out of scope 404. `refused` names callers a route refuses outright, with its status;
 *   `omitted` the rows of the type the route never shows (Berth's own, which Platz's JSON cannot hold): in no list,
 *   and 404 by id for everyone.
 * - `twin`: a write (or a call with side effects) that is the REST form of a GraphQL matrix case (its `field` and
 *   `variant` in test/support/matrix-mutations.ts): the same callers are allowed; an allowed call answers 2xx and is
 *   audited, a denied one answers 401 (no valid caller), 403 or 404 (or the twin's `deniedWith`) and writes nothing.
 *   `prepare` makes fresh targets for one call and returns the path (ids filled in) and the body.
 * - `allowed`: as `twin`, for a route with no GraphQL twin, naming its callers itself (`audited: false` for a read).
 * - `elsewhere`: a route that establishes the caller or needs none; the test file that covers it.
 */
export type RestMatrixRow = { route: string; variant?: string } & (
  | { read: string; refused?: Partial<Record<Who, number>>; omitted?: () => Promise<string[]> }
  | { twin: { field: string; variant?: string }; prepare: Prepare }
  | { allowed: readonly Who[]; audited?: false; prepare: Prepare }
  | { elsewhere: string }
);

type Prepare = (who: Who) => Promise<{ path: string; body?: unknown }>;

export function restMatrixRows(server: TestServer, world: World): RestMatrixRow[] {
  const { a, b } = world;
  const { ref, callerUserId, fresh, freshUser, freshEnv, freshDeployment, freshCluster, freshBot, freshResource, tokenRow, scheduledTask } = matrixFixtures(server, world);
  /** Berth's grants held by bots: Platz's rows are users' */
  const botGrants = (table: string) => async () => (await server.sql<{ id: string }>(`select id from ${table} where bot_id is not null`)).map((r) => r.id);
  const envSlices = [['env A', a], ['env B', b]] as const;

  return [
    { route: 'GET /status', elsewhere: 'test/rest-auth.test.ts (no credential)' },
    { route: 'GET /api/v2/auth/google', elsewhere: 'test/rest-auth.test.ts (starts a login)' },
    { route: 'POST /api/v2/auth/google/callback', elsewhere: 'test/rest-auth.test.ts (finishes a login)' },
    { route: 'GET /api/v2/auth/me', allowed: AUTHENTICATED, audited: false, prepare: async () => ({ path: '/api/v2/auth/me' }) },

    // envs
    { route: 'GET /api/v2/envs', read: 'Env' },
    { route: 'GET /api/v2/envs/{id}', read: 'Env' },
    { route: 'POST /api/v2/envs', twin: { field: 'createEnv' }, prepare: async () => ({ path: '/api/v2/envs', body: { name: `env-${unique()}` } }) },
    ...([['env A', a], ['env B', b]] as const).map(([variant, slice]): RestMatrixRow => ({
      route: 'PUT /api/v2/envs/{id}',
      variant,
      twin: { field: 'updateEnv', variant },
      prepare: async () => ({ path: `/api/v2/envs/${slice.env.id}`, body: { name: `env-${unique()}` } }),
    })),
    { route: 'DELETE /api/v2/envs/{id}', twin: { field: 'deleteEnv' }, prepare: async () => ({ path: `/api/v2/envs/${(await freshEnv()).id}` }) },

    // users
    { route: 'GET /api/v2/users', read: 'User' },
    { route: 'GET /api/v2/users/{id}', read: 'User' },
    // Platz's flags are GraphQL's updateUser of another user (a site admin's), not of one's own profile
    { route: 'PUT /api/v2/users/{id}', twin: { field: 'updateUser', variant: 'another user' }, prepare: async () => ({ path: `/api/v2/users/${(await freshUser()).id}`, body: { is_active: false } }) },

    // deployments
    { route: 'GET /api/v2/deployments', read: 'Deployment' },
    { route: 'GET /api/v2/deployments/{id}', read: 'Deployment' },
    ...([['env A', a], ['env B', b]] as const).map(([variant, slice]): RestMatrixRow => ({
      route: 'POST /api/v2/deployments',
      variant,
      twin: { field: 'createDeployment', variant },
      prepare: async () => ({ path: '/api/v2/deployments', body: { name: `new-${unique()}`, kind_id: slice.kind.id, cluster_id: slice.cluster.id, helm_chart_id: slice.chart.id } }),
    })),
    {
      route: 'PUT /api/v2/deployments/{id}',
      variant: 'another deployment',
      twin: { field: 'updateDeployment', variant: 'another deployment' },
      prepare: async () => ({ path: `/api/v2/deployments/${(await freshDeployment()).id}`, body: { description_md: unique() } }),
    },
    {
      route: 'PUT /api/v2/deployments/{id}',
      variant: 'the calling deployment itself',
      twin: { field: 'updateDeployment', variant: 'the calling deployment itself' },
      prepare: async () => ({ path: `/api/v2/deployments/${a.deployment.id}`, body: { description_md: unique() } }),
    },
    ...([['from env A to a cluster of env B', a, b], ['from env B to a cluster of env A', b, a]] as const).map(([variant, from, to]): RestMatrixRow => ({
      route: 'PUT /api/v2/deployments/{id}',
      variant: `moved ${variant}`,
      twin: { field: 'updateDeployment', variant: `moved ${variant}` },
      prepare: async () => ({ path: `/api/v2/deployments/${(await freshDeployment(from)).id}`, body: { cluster_id: to.cluster.id } }),
    })),
    { route: 'DELETE /api/v2/deployments/{id}', twin: { field: 'deleteDeployment' }, prepare: async () => ({ path: `/api/v2/deployments/${(await freshDeployment()).id}` }) },

    // deployment tasks
    { route: 'GET /api/v2/deployment-tasks', read: 'DeploymentTask' },
    { route: 'GET /api/v2/deployment-tasks/{id}', read: 'DeploymentTask' },
    {
      route: 'POST /api/v2/deployment-tasks',
      twin: { field: 'createDeploymentTask' },
      prepare: async () => ({
        path: '/api/v2/deployment-tasks',
        body: { deployment_id: (await freshDeployment()).id, operation: { InvokeAction: { helm_chart_id: a.chart.id, action_id: 'ping', body: {} } } },
      }),
    },
    {
      route: 'DELETE /api/v2/deployment-tasks/{id}',
      twin: { field: 'cancelDeploymentTask' },
      // due in an hour, beyond Platz's 5 minutes, so only who may cancel decides
      prepare: async () => ({ path: `/api/v2/deployment-tasks/${(await scheduledTask()).id}`, body: { reason: 'no' } }),
    },
    // clusters, their mirrored objects, the server
    { route: 'GET /api/v2/k8s-clusters', read: 'K8sCluster' },
    { route: 'GET /api/v2/k8s-clusters/{id}', read: 'K8sCluster' },
    {
      route: 'PUT /api/v2/k8s-clusters/{id}',
      variant: 'in place',
      twin: { field: 'updateCluster', variant: 'in place' },
      prepare: async () => ({ path: `/api/v2/k8s-clusters/${a.cluster.id}`, body: { ingress_class: `class-${unique()}` } }),
    },
    {
      route: 'PUT /api/v2/k8s-clusters/{id}',
      variant: 'moved from env A to env B',
      twin: { field: 'updateCluster', variant: 'moved from env A to env B' },
      prepare: async () => ({ path: `/api/v2/k8s-clusters/${(await freshCluster()).id}`, body: { env_id: b.env.id } }),
    },
    { route: 'DELETE /api/v2/k8s-clusters/{id}', twin: { field: 'deleteCluster' }, prepare: async () => ({ path: `/api/v2/k8s-clusters/${(await freshCluster()).id}` }) },
    { route: 'GET /api/v2/k8s-resources', read: 'K8sResource' },
    { route: 'GET /api/v2/k8s-resources/{id}', read: 'K8sResource' },
    { route: 'GET /api/v2/server', elsewhere: 'test/rest-clusters.test.ts (no credential)' },
    // env user permissions and deployment permissions
    { route: 'GET /api/v2/env-user-permissions', read: 'EnvUserPermission', omitted: botGrants('env_user_permissions') },
    { route: 'GET /api/v2/env-user-permissions/{id}', read: 'EnvUserPermission', omitted: botGrants('env_user_permissions') },
    { route: 'GET /api/v2/deployment-permissions', read: 'DeploymentPermission', omitted: botGrants('deployment_permissions') },
    { route: 'GET /api/v2/deployment-permissions/{id}', read: 'DeploymentPermission', omitted: botGrants('deployment_permissions') },
    ...envSlices.flatMap(([variant, slice]): RestMatrixRow[] => [
      {
        route: 'POST /api/v2/env-user-permissions',
        variant,
        twin: { field: 'createEnvUserPermission', variant },
        prepare: async () => ({ path: '/api/v2/env-user-permissions', body: { env_id: slice.env.id, user_id: (await freshUser()).id, role: 'User' } }),
      },
      {
        route: 'POST /api/v2/deployment-permissions',
        variant,
        twin: { field: 'createDeploymentPermission', variant },
        prepare: async () => ({ path: '/api/v2/deployment-permissions', body: { env_id: slice.env.id, user_id: (await freshUser()).id, kind_id: slice.kind.id, role: 'Maintainer' } }),
      },
    ]),
    {
      route: 'DELETE /api/v2/env-user-permissions/{id}',
      twin: { field: 'deleteEnvUserPermission' },
      prepare: async () => ({ path: `/api/v2/env-user-permissions/${await fresh(build(EnvUserPermission, { env: a.env, user: await freshUser(), role: EnvUserRole.User }))}` }),
    },
    {
      route: 'DELETE /api/v2/deployment-permissions/{id}',
      twin: { field: 'deleteDeploymentPermission' },
      prepare: async () => ({
        path: `/api/v2/deployment-permissions/${await fresh(build(DeploymentPermission, { env: a.env, kind: a.kind, user: await freshUser(), role: UserDeploymentRole.Maintainer }))}`,
      }),
    },

    // secrets
    { route: 'GET /api/v2/secrets', read: 'Secret' },
    { route: 'GET /api/v2/secrets/{id}', read: 'Secret' },
    ...envSlices.map(([variant, slice]): RestMatrixRow => ({
      route: 'POST /api/v2/secrets',
      variant,
      twin: { field: 'createSecret', variant },
      prepare: async () => ({ path: '/api/v2/secrets', body: { env_id: slice.env.id, collection: 'db', name: `s-${unique()}`, contents: 'hunter2' } }),
    })),
    ...([['PUT', 'updateSecret', { contents: 'new' }], ['DELETE', 'deleteSecret', undefined]] as const).map(([method, field, body]): RestMatrixRow => ({
      route: `${method} /api/v2/secrets/{id}`,
      twin: { field },
      prepare: async () => ({ path: `/api/v2/secrets/${await fresh(build(Secret, { env: a.env, collection: 'db', name: `s-${unique()}`, contentsEncrypted: 'v1.x.y.z.w' }))}`, body }),
    })),

    // user tokens, bots and bot tokens
    { route: 'GET /api/v2/user-tokens', read: 'UserToken' },
    { route: 'GET /api/v2/user-tokens/{id}', read: 'UserToken' },
    { route: 'POST /api/v2/user-tokens', twin: { field: 'createUserToken' }, prepare: async () => ({ path: '/api/v2/user-tokens', body: {} }) },
    {
      route: 'DELETE /api/v2/user-tokens/{id}',
      variant: 'own token',
      twin: { field: 'revokeUserToken', variant: 'own token' },
      prepare: async (who) => ({ path: `/api/v2/user-tokens/${await fresh(tokenRow(UserToken, { user: ref(User, callerUserId(who)) }))}` }),
    },
    {
      route: 'DELETE /api/v2/user-tokens/{id}',
      variant: "another user's token",
      twin: { field: 'revokeUserToken', variant: "another user's token" },
      prepare: async () => ({ path: `/api/v2/user-tokens/${await fresh(tokenRow(UserToken, { user: await freshUser() }))}` }),
    },
    { route: 'GET /api/v2/bots', read: 'Bot' },
    { route: 'GET /api/v2/bots/{id}', read: 'Bot' },
    { route: 'POST /api/v2/bots', twin: { field: 'createBot' }, prepare: async () => ({ path: '/api/v2/bots', body: { display_name: `bot-${unique()}` } }) },
    { route: 'PUT /api/v2/bots/{id}', twin: { field: 'updateBot' }, prepare: async () => ({ path: `/api/v2/bots/${(await freshBot()).id}`, body: { display_name: 'renamed' } }) },
    { route: 'DELETE /api/v2/bots/{id}', twin: { field: 'deleteBot' }, prepare: async () => ({ path: `/api/v2/bots/${(await freshBot()).id}` }) },
    { route: 'GET /api/v2/bot-tokens', read: 'BotToken' },
    { route: 'GET /api/v2/bot-tokens/{id}', read: 'BotToken' },
    { route: 'POST /api/v2/bot-tokens', twin: { field: 'createBotToken' }, prepare: async () => ({ path: '/api/v2/bot-tokens', body: { bot_id: (await freshBot()).id } }) },
    { route: 'DELETE /api/v2/bot-tokens/{id}', twin: { field: 'revokeBotToken' }, prepare: async () => ({ path: `/api/v2/bot-tokens/${await fresh(tokenRow(BotToken, { bot: await freshBot() }))}` }) },

    // catalogs
    { route: 'GET /api/v2/deployment-kinds', read: 'DeploymentKind' },
    { route: 'GET /api/v2/deployment-kinds/{id}', read: 'DeploymentKind' },
    {
      route: 'PUT /api/v2/deployment-kinds/{id}',
      twin: { field: 'renameDeploymentKind' },
      prepare: async () => ({ path: `/api/v2/deployment-kinds/${await fresh(build(DeploymentKind, { name: `Kind${unique()}` }))}`, body: { name: `Renamed${unique()}` } }),
    },
    { route: 'GET /api/v2/deployment-resource-types', read: 'DeploymentResourceType' },
    { route: 'GET /api/v2/deployment-resource-types/{id}', read: 'DeploymentResourceType' },
    { route: 'GET /api/v2/helm-charts', read: 'HelmChart' },
    { route: 'GET /api/v2/helm-charts/{id}', read: 'HelmChart' },
    { route: 'GET /api/v2/helm-registries', read: 'HelmRegistry' },
    { route: 'GET /api/v2/helm-registries/{id}', read: 'HelmRegistry' },
    {
      route: 'PUT /api/v2/helm-registries/{id}',
      twin: { field: 'setHelmRegistryIcon' },
      prepare: async () => {
        const registry = await fresh(build(HelmRegistry, { domainName: 'registry.example.com', repoName: `icon-${unique()}`, kind: a.kind, provider: HelmRegistryProvider.Oci }));
        return { path: `/api/v2/helm-registries/${registry}`, body: { fa_icon: 'database' } };
      },
    },
    { route: 'GET /api/v2/helm-tag-formats', read: 'HelmTagFormat' },
    { route: 'GET /api/v2/helm-tag-formats/{id}', read: 'HelmTagFormat' },
    { route: 'POST /api/v2/helm-tag-formats', twin: { field: 'createHelmTagFormat' }, prepare: async () => ({ path: '/api/v2/helm-tag-formats', body: { pattern: `^v(?<version>[0-9.]+)-${unique()}$` } }) },
    {
      route: 'DELETE /api/v2/helm-tag-formats/{id}',
      twin: { field: 'deleteHelmTagFormat' },
      prepare: async () => ({ path: `/api/v2/helm-tag-formats/${await fresh(build(HelmTagFormat, { pattern: `^(?<version>.+)-${unique()}$` }))}` }),
    },

    // deployment resources
    { route: 'GET /api/v2/deployment-resources', read: 'DeploymentResource' },
    { route: 'GET /api/v2/deployment-resources/{id}', read: 'DeploymentResource' },
    {
      route: 'POST /api/v2/deployment-resources',
      twin: { field: 'createDeploymentResource' },
      prepare: async () => {
        const { deployment, type } = await freshResource();
        return { path: '/api/v2/deployment-resources', body: { type_id: type.id, deployment_id: deployment.id, name: `r-${unique()}`, props: {} } };
      },
    },
    {
      route: 'PUT /api/v2/deployment-resources/{id}',
      twin: { field: 'updateDeploymentResource' },
      prepare: async () => ({ path: `/api/v2/deployment-resources/${(await freshResource()).resource.id}`, body: { props: { size: 2 } } }),
    },
    {
      route: 'DELETE /api/v2/deployment-resources/{id}',
      twin: { field: 'deleteDeploymentResource' },
      prepare: async () => ({ path: `/api/v2/deployment-resources/${(await freshResource()).resource.id}` }),
    },
  ];
}

/** The GraphQL case a `twin` row mirrors; a row naming no case fails. */
export function twinOf(cases: MutationCase[], twin: { field: string; variant?: string }): MutationCase {
  const found = cases.find((c) => c.field === twin.field && c.variant === twin.variant);
  if (!found) throw new Error(`no GraphQL matrix case ${twin.field}${twin.variant ? ` (${twin.variant})` : ''}`);
  return found;
}
