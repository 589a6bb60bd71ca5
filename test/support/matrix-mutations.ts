import { hashPassword } from '../../src/auth/password.js';
import {
  BotToken, DeploymentKind, DeploymentPermission, EnvUserPermission, GroupMember, GroupWebApp, HelmRegistry, HelmTagFormat, Secret, User, UserToken,
} from '../../src/entities/index.js';
import { EnvUserRole, HelmRegistryProvider, UserApprovalState, UserDeploymentRole } from '../../src/entities/enums.js';
import { build, persist, unique } from './fixtures.js';
import { matrixFixtures } from './matrix-fixtures.js';
import { AUTHENTICATED, USERS, type Who, type World } from './matrix-world.js';
import type { TestServer } from './server.js';

/** One mutation of the matrix: who may call it, and how to make fresh targets for one call. */
export interface MutationCase {
  /** the Mutation (or admin-only Query) field exercised */
  field: string;
  /** what this case varies, when a field has several */
  variant?: string;
  allowed: readonly Who[];
  /** the exact code some denied callers must get, where the rule makes it certain (otherwise FORBIDDEN or NOT_FOUND) */
  deniedWith?: Partial<Record<Who, 'FORBIDDEN' | 'NOT_FOUND'>>;
  prepare(who: Who): Promise<{ document: string; variables?: Record<string, unknown> }>;
}

const WHO_BUT_INACTIVE: readonly Who[] = ['anonymous', ...AUTHENTICATED];
const SITE_ADMIN: readonly Who[] = ['siteAdmin'];
const ENV_A_ADMINS: readonly Who[] = ['envAdmin', 'adminAMaintainerB', 'siteAdmin'];
const OWNERS_IN_A: readonly Who[] = ['kindOwner', 'botWithRoles', ...ENV_A_ADMINS];
const MAINTAINERS_IN_A: readonly Who[] = ['kindMaintainer', 'maintainerAUserB', ...OWNERS_IN_A];
/** Maintainers of deployments in both envs: the only ones who may move a deployment from one to the other. */
const MAINTAINERS_IN_A_AND_B: readonly Who[] = ['adminAMaintainerB', 'siteAdmin'];

const KUBECONFIG = `
apiVersion: v1
kind: Config
clusters:
- name: matrix
  cluster: { server: "https://matrix.example.com:6443" }
users:
- name: matrix-user
  user: { token: "matrix-token" }
contexts:
- name: CONTEXT
  context: { cluster: matrix, user: matrix-user }
`;

export function mutationCases(server: TestServer, world: World): MutationCase[] {
  const { a, b } = world;
  const { ref, callerUserId, freshUser, freshEnv, freshDeployment, freshCluster, freshResource, freshGroup, freshWebApp, freshBot, fresh, tokenRow, scheduledTask } = matrixFixtures(server, world);
  const userToken = (userId: string) => fresh(tokenRow(UserToken, { user: ref(User, userId) }));

  const doc = (document: string, variables?: Record<string, unknown>) => ({ document, variables });

  return [
    // people
    {
      field: 'signUp',
      allowed: WHO_BUT_INACTIVE,
      prepare: async () => {
        const name = `signup-${unique()}`;
        return doc(`mutation ($input: SignUpInput!) { signUp(input: $input) { accessToken } }`, {
          input: { email: `${name}@example.com`, username: name, displayName: name, password: 'long-enough-password' },
        });
      },
    },
    {
      field: 'createUser',
      allowed: SITE_ADMIN,
      prepare: async () => {
        const name = `created-${unique()}`;
        return doc(`mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }`, {
          input: { email: `${name}@example.com`, username: name, displayName: name, password: 'long-enough-password' },
        });
      },
    },
    {
      field: 'updateUser',
      variant: 'own profile',
      allowed: USERS,
      prepare: async (who) => doc(`mutation ($id: ID!) { updateUser(id: $id, input: { displayName: "Renamed" }) { id } }`, { id: callerUserId(who) }),
    },
    {
      field: 'updateUser',
      variant: 'another user',
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation ($id: ID!) { updateUser(id: $id, input: { displayName: "Renamed" }) { id } }`, { id: (await freshUser()).id }),
    },
    {
      field: 'changePassword',
      allowed: USERS,
      prepare: async (who) => {
        const em = server.em.fork();
        await em.nativeUpdate(User, { id: callerUserId(who) }, { passwordHash: await hashPassword('old-password-123') });
        return doc(`mutation { changePassword(currentPassword: "old-password-123", newPassword: "new-password-456") }`);
      },
    },
    ...(['setUserActive', 'setUserAdmin'] as const).map((field) => ({
      field,
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation ($id: ID!) { ${field}(id: $id, ${field === 'setUserActive' ? 'active: false' : 'admin: true'}) { id } }`, { id: (await freshUser()).id }),
    })),
    {
      field: 'setUserAuthLevel',
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation ($id: ID!) { setUserAuthLevel(id: $id, authLevel: 1) { id } }`, { id: (await freshUser()).id }),
    },
    {
      field: 'requestAccess',
      allowed: USERS,
      prepare: async (who) => {
        await server.em.fork().nativeUpdate(User, { id: callerUserId(who) }, { approvalState: UserApprovalState.NEW });
        return doc(`mutation { requestAccess(comments: "please") { id } }`);
      },
    },
    {
      field: 'approveAccessRequest',
      allowed: SITE_ADMIN,
      prepare: async () => {
        const user = await freshUser({ approvalState: UserApprovalState.ACCESS_REQUESTED });
        // a new namespace would be provisioned in the cluster, which the matrix has not (test/kubportal-cluster.test.ts)
        return doc(`mutation ($id: ID!, $sa: ID!) { approveAccessRequest(userId: $id, input: { serviceAccountId: $sa }) { id } }`, {
          id: user.id,
          sa: a.serviceAccount.id,
        });
      },
    },
    {
      field: 'rejectAccessRequest',
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation ($id: ID!) { rejectAccessRequest(userId: $id) { id } }`, { id: (await freshUser({ approvalState: UserApprovalState.ACCESS_REQUESTED })).id }),
    },
    {
      field: 'createUserToken',
      allowed: USERS,
      prepare: async () => doc(`mutation { createUserToken(input: {}) { token } }`),
    },
    {
      field: 'revokeUserToken',
      variant: 'own token',
      allowed: USERS,
      prepare: async (who) => doc(`mutation ($id: ID!) { revokeUserToken(id: $id) }`, { id: await userToken(callerUserId(who)) }),
    },
    {
      field: 'revokeUserToken',
      variant: "another user's token",
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation ($id: ID!) { revokeUserToken(id: $id) }`, { id: await userToken((await freshUser()).id) }),
    },
    {
      field: 'createBot',
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation { createBot(input: { displayName: "bot-${unique()}" }) { id } }`),
    },
    {
      field: 'updateBot',
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation ($id: ID!) { updateBot(id: $id, input: { displayName: "renamed" }) { id } }`, { id: (await freshBot()).id }),
    },
    {
      field: 'deleteBot',
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation ($id: ID!) { deleteBot(id: $id) }`, { id: (await freshBot()).id }),
    },
    {
      field: 'createBotToken',
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation ($id: ID!) { createBotToken(input: { botId: $id }) { token } }`, { id: (await freshBot()).id }),
    },
    {
      field: 'revokeBotToken',
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation ($id: ID!) { revokeBotToken(id: $id) }`, { id: await fresh(tokenRow(BotToken, { bot: await freshBot() })) }),
    },
    {
      field: 'createGroup',
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation { createGroup(input: { name: "group-${unique()}" }) { id } }`),
    },
    {
      field: 'renameGroup',
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation ($id: ID!) { renameGroup(id: $id, name: "renamed-${unique()}") { id } }`, { id: (await freshGroup()).id }),
    },
    {
      field: 'updateGroup',
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation ($id: ID!) { updateGroup(id: $id, input: { canAdmin: false }) { id } }`, { id: (await freshGroup()).id }),
    },
    {
      field: 'deleteGroup',
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation ($id: ID!) { deleteGroup(id: $id) }`, { id: (await freshGroup()).id }),
    },
    {
      field: 'addGroupMember',
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation ($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }`, { g: (await freshGroup()).id, u: (await freshUser()).id }),
    },
    {
      field: 'removeGroupMember',
      allowed: SITE_ADMIN,
      prepare: async () => {
        const [group, user] = [await freshGroup(), await freshUser()];
        await persist(server, build(GroupMember, { group, user }));
        return doc(`mutation ($g: ID!, $u: ID!) { removeGroupMember(groupId: $g, userId: $u) { id } }`, { g: group.id, u: user.id });
      },
    },
    {
      field: 'addGroupWebApp',
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation ($g: ID!, $w: ID!) { addGroupWebApp(groupId: $g, webAppId: $w) { id } }`, { g: (await freshGroup()).id, w: (await freshWebApp()).id }),
    },
    {
      field: 'removeGroupWebApp',
      allowed: SITE_ADMIN,
      prepare: async () => {
        const [group, webApp] = [await freshGroup(), await freshWebApp()];
        await persist(server, build(GroupWebApp, { group, webApp }));
        return doc(`mutation ($g: ID!, $w: ID!) { removeGroupWebApp(groupId: $g, webAppId: $w) { id } }`, { g: group.id, w: webApp.id });
      },
    },
    {
      field: 'createWebApp',
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation { createWebApp(input: { name: "app-${unique()}", linkUrl: "https://example.com/{{namespace}}", linkShow: true }) { id } }`),
    },
    {
      field: 'updateWebApp',
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation ($id: ID!) { updateWebApp(id: $id, input: { linkShow: true }) { id } }`, { id: (await freshWebApp()).id }),
    },
    {
      field: 'deleteWebApp',
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation ($id: ID!) { deleteWebApp(id: $id) }`, { id: (await freshWebApp()).id }),
    },

    // envs and permissions
    {
      field: 'createEnv',
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation { createEnv(input: { name: "env-${unique()}" }) { id } }`),
    },
    {
      field: 'updateEnv',
      variant: 'env A',
      allowed: ENV_A_ADMINS,
      prepare: async () => doc(`mutation ($id: ID!) { updateEnv(id: $id, input: { description: "${unique()}" }) { id } }`, { id: a.env.id }),
    },
    {
      field: 'updateEnv',
      variant: 'env B',
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation ($id: ID!) { updateEnv(id: $id, input: { description: "${unique()}" }) { id } }`, { id: b.env.id }),
    },
    {
      field: 'deleteEnv',
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation ($id: ID!) { deleteEnv(id: $id) }`, { id: (await freshEnv()).id }),
    },
    ...([['env A', a, ENV_A_ADMINS], ['env B', b, SITE_ADMIN]] as const).flatMap(([variant, slice, allowed]): MutationCase[] => [
      {
        field: 'createEnvUserPermission',
        variant,
        allowed,
        prepare: async () =>
          doc(`mutation ($env: ID!, $user: ID!) { createEnvUserPermission(input: { envId: $env, userId: $user, role: User }) { id } }`, {
            env: slice.env.id,
            user: (await freshUser()).id,
          }),
      },
      {
        field: 'createDeploymentPermission',
        variant,
        allowed,
        prepare: async () =>
          doc(`mutation ($env: ID!, $kind: ID!, $user: ID!) { createDeploymentPermission(input: { envId: $env, kindId: $kind, userId: $user, role: Maintainer }) { id } }`, {
            env: slice.env.id,
            kind: slice.kind.id,
            user: (await freshUser()).id,
          }),
      },
    ]),
    {
      field: 'updateEnvUserPermission',
      allowed: ENV_A_ADMINS,
      prepare: async () => {
        const [grant] = await persist(server, build(EnvUserPermission, { env: a.env, user: await freshUser(), role: EnvUserRole.User }));
        return doc(`mutation ($id: ID!) { updateEnvUserPermission(id: $id, role: Admin) { id } }`, { id: grant.id });
      },
    },
    {
      field: 'deleteEnvUserPermission',
      allowed: ENV_A_ADMINS,
      prepare: async () => {
        const [grant] = await persist(server, build(EnvUserPermission, { env: a.env, user: await freshUser(), role: EnvUserRole.User }));
        return doc(`mutation ($id: ID!) { deleteEnvUserPermission(id: $id) }`, { id: grant.id });
      },
    },
    {
      field: 'deleteDeploymentPermission',
      allowed: ENV_A_ADMINS,
      prepare: async () => {
        const [grant] = await persist(server, build(DeploymentPermission, { env: a.env, kind: a.kind, user: await freshUser(), role: UserDeploymentRole.Maintainer }));
        return doc(`mutation ($id: ID!) { deleteDeploymentPermission(id: $id) }`, { id: grant.id });
      },
    },

    // clusters and catalog
    {
      field: 'kubeconfigContexts',
      allowed: SITE_ADMIN,
      prepare: async () => doc(`query ($k: String!) { kubeconfigContexts(kubeconfig: $k) { name context } }`, { k: KUBECONFIG.replace('CONTEXT', 'ctx') }),
    },
    {
      field: 'createClustersFromKubeconfig',
      allowed: SITE_ADMIN,
      prepare: async () => {
        const context = `ctx-${unique()}`;
        return doc(`mutation ($k: String!, $c: [String!]!) { createClustersFromKubeconfig(input: { kubeconfig: $k, contexts: $c }) { id } }`, {
          k: KUBECONFIG.replace('CONTEXT', context),
          c: [context],
        });
      },
    },
    {
      field: 'updateCluster',
      variant: 'in place',
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation ($id: ID!) { updateCluster(id: $id, input: { alias: "${unique()}" }) { id } }`, { id: a.cluster.id }),
    },
    {
      // site admins only: an Admin of the cluster's env is refused too, though it sees the env the cluster would enter
      field: 'updateCluster',
      variant: 'moved from env A to env B',
      allowed: SITE_ADMIN,
      deniedWith: { adminAMaintainerB: 'FORBIDDEN', maintainerAUserB: 'FORBIDDEN', envAdmin: 'NOT_FOUND' },
      prepare: async () => doc(`mutation ($id: ID!, $env: ID!) { updateCluster(id: $id, input: { envId: $env }) { id } }`, { id: (await freshCluster()).id, env: b.env.id }),
    },
    {
      field: 'deleteCluster',
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation ($id: ID!) { deleteCluster(id: $id) }`, { id: (await freshCluster()).id }),
    },
    {
      field: 'renameDeploymentKind',
      allowed: SITE_ADMIN,
      prepare: async () => {
        const [kind] = await persist(server, build(DeploymentKind, { name: `Kind${unique()}` }));
        return doc(`mutation ($id: ID!) { renameDeploymentKind(id: $id, name: "Renamed${unique()}") { id } }`, { id: kind.id });
      },
    },
    {
      field: 'createHelmRegistry',
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation { createHelmRegistry(input: { domainName: "registry.example.com", repoName: "repo-${unique()}-chart" }) { id } }`),
    },
    {
      field: 'setHelmRegistryIcon',
      allowed: SITE_ADMIN,
      prepare: async () => {
        const [registry] = await persist(server, build(HelmRegistry, { domainName: 'registry.example.com', repoName: `icon-${unique()}`, kind: a.kind, provider: HelmRegistryProvider.Oci }));
        return doc(`mutation ($id: ID!) { setHelmRegistryIcon(id: $id, faIcon: "database") { id } }`, { id: registry.id });
      },
    },
    {
      field: 'createHelmTagFormat',
      allowed: SITE_ADMIN,
      prepare: async () => doc(`mutation { createHelmTagFormat(pattern: "^v(?<version>[0-9.]+)-${unique()}$") { id } }`),
    },
    {
      field: 'deleteHelmTagFormat',
      allowed: SITE_ADMIN,
      prepare: async () => {
        const [format] = await persist(server, build(HelmTagFormat, { pattern: `^(?<version>.+)-${unique()}$` }));
        return doc(`mutation ($id: ID!) { deleteHelmTagFormat(id: $id) }`, { id: format.id });
      },
    },
    {
      field: 'registerHelmChart',
      allowed: SITE_ADMIN,
      prepare: async () => {
        const [registry] = await persist(server, build(HelmRegistry, { domainName: 'registry.example.com', repoName: `chart-${unique()}`, kind: a.kind, provider: HelmRegistryProvider.Oci }));
        return doc(`mutation ($id: ID!) { registerHelmChart(input: { helmRegistryId: $id, imageDigest: "sha256:${unique()}", imageTag: "1.2.3" }) { id } }`, { id: registry.id });
      },
    },

    // secrets
    ...([['env A', a, ENV_A_ADMINS], ['env B', b, SITE_ADMIN]] as const).map(([variant, slice, allowed]): MutationCase => ({
      field: 'createSecret',
      variant,
      allowed,
      prepare: async () => doc(`mutation ($env: ID!) { createSecret(input: { envId: $env, collection: "db", name: "s-${unique()}", contents: "hunter2" }) { id } }`, { env: slice.env.id }),
    })),
    ...(['updateSecret', 'deleteSecret'] as const).map((field): MutationCase => ({
      field,
      allowed: ENV_A_ADMINS,
      prepare: async () => {
        const [secret] = await persist(server, build(Secret, { env: a.env, collection: 'db', name: `s-${unique()}`, contentsEncrypted: 'v1.x.y.z.w' }));
        return field === 'updateSecret'
          ? doc(`mutation ($id: ID!) { updateSecret(id: $id, input: { contents: "new" }) { id } }`, { id: secret.id })
          : doc(`mutation ($id: ID!) { deleteSecret(id: $id) }`, { id: secret.id });
      },
    })),

    // deployments, tasks, resources
    ...([['env A', a, OWNERS_IN_A], ['env B', b, SITE_ADMIN]] as const).map(([variant, slice, allowed]): MutationCase => ({
      field: 'createDeployment',
      variant,
      allowed,
      prepare: async () =>
        doc(`mutation ($input: CreateDeploymentInput!) { createDeployment(input: $input) { id } }`, {
          input: { name: `new-${unique()}`, kindId: slice.kind.id, clusterId: slice.cluster.id, helmChartId: slice.chart.id },
        }),
    })),
    {
      field: 'updateDeployment',
      variant: 'another deployment',
      allowed: MAINTAINERS_IN_A,
      prepare: async () => doc(`mutation ($id: ID!) { updateDeployment(id: $id, input: { descriptionMd: "${unique()}" }) { id } }`, { id: (await freshDeployment()).id }),
    },
    {
      field: 'updateDeployment',
      variant: 'the calling deployment itself',
      allowed: [...MAINTAINERS_IN_A, 'deployment'],
      prepare: async () => doc(`mutation ($id: ID!) { updateDeployment(id: $id, input: { descriptionMd: "${unique()}" }) { id } }`, { id: a.deployment.id }),
    },
    // a move needs a Maintainer of the deployment in the env it leaves and in the env it enters
    ...([['from env A to a cluster of env B', a, b], ['from env B to a cluster of env A', b, a]] as const).map(([variant, from, to]): MutationCase => ({
      field: 'updateDeployment',
      variant: `moved ${variant}`,
      allowed: MAINTAINERS_IN_A_AND_B,
      // a Maintainer in A alone does not see B (NOT_FOUND); one that is also env User in B sees it and is refused there, either way
      deniedWith: { kindMaintainer: 'NOT_FOUND', maintainerAUserB: 'FORBIDDEN' },
      prepare: async () =>
        doc(`mutation ($id: ID!, $cluster: ID!) { updateDeployment(id: $id, input: { clusterId: $cluster }) { id } }`, {
          id: (await freshDeployment(from)).id,
          cluster: to.cluster.id,
        }),
    })),
    {
      field: 'deleteDeployment',
      allowed: OWNERS_IN_A,
      prepare: async () => doc(`mutation ($id: ID!) { deleteDeployment(id: $id) { id } }`, { id: (await freshDeployment()).id }),
    },
    {
      field: 'createDeploymentTask',
      allowed: MAINTAINERS_IN_A,
      prepare: async () =>
        doc(`mutation ($d: ID!, $chart: ID!) { createDeploymentTask(input: { deploymentId: $d, invokeAction: { helmChartId: $chart, actionId: "ping", body: {} } }) { id } }`, {
          d: (await freshDeployment()).id,
          chart: a.chart.id,
        }),
    },
    {
      field: 'cancelDeploymentTask',
      allowed: ['kindMaintainer', ...ENV_A_ADMINS],
      prepare: async () => doc(`mutation ($id: ID!) { cancelDeploymentTask(id: $id, reason: "no") { id } }`, { id: (await scheduledTask()).id }),
    },
    {
      field: 'createDeploymentResource',
      allowed: MAINTAINERS_IN_A,
      prepare: async () => {
        const { deployment, type } = await freshResource();
        return doc(`mutation ($t: ID!, $d: ID!) { createDeploymentResource(input: { typeId: $t, deploymentId: $d, name: "r-${unique()}", props: {} }) { id } }`, {
          t: type.id,
          d: deployment.id,
        });
      },
    },
    ...(['updateDeploymentResource', 'deleteDeploymentResource'] as const).map((field): MutationCase => ({
      field,
      allowed: MAINTAINERS_IN_A,
      prepare: async () => {
        const { resource } = await freshResource();
        return field === 'updateDeploymentResource'
          ? doc(`mutation ($id: ID!) { updateDeploymentResource(id: $id, input: { props: { size: 2 } }) { id } }`, { id: resource.id })
          : doc(`mutation ($id: ID!) { deleteDeploymentResource(id: $id) { id } }`, { id: resource.id });
      },
    })),
  ];
}

/** Mutations that establish who the caller is; each has its own test file (auth, single sign-on). */
export const CREDENTIAL_MUTATIONS = ['login', 'refreshToken', 'logout', 'startSingleSignOn', 'finishSingleSignOn'];
