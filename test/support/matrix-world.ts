import { randomUUID } from 'node:crypto';
import {
  AuditRecord, Deployment, DeploymentKind, DeploymentResource, DeploymentResourceType, DeploymentTask, Env, Group,
  GroupMember, GroupWebApp, HelmChart, HelmRegistry, HelmTagFormat, K8sCluster, K8sNamespace, K8sResource, K8sServiceAccount,
  Secret, User, WebApp,
} from '../../src/entities/index.js';
import { EnvUserRole, HelmRegistryProvider, UserDeploymentRole } from '../../src/entities/enums.js';
import { build } from './fixtures.js';
import { createBot, createUser, deploymentCaller, grantEnvRole, grantKindRole, type Caller } from './identities.js';
import type { TestServer } from './server.js';

/**
 * The identities of the authorization matrix. Every role is held in env A only, except for the two
 * callers that hold different roles in two envs, so that a check made against the wrong env (the
 * object's old env instead of its new one, say) changes an outcome instead of reading as NOT_FOUND:
 * adminAMaintainerB (env Admin in A, kind Maintainer in B) maintains deployments in both envs;
 * maintainerAUserB (kind Maintainer in A, only env User in B) sees B but may change nothing there.
 */
export const WHO = [
  'anonymous', 'inactiveUser', 'userWithoutRole', 'envUser', 'envAdmin', 'kindMaintainer', 'kindOwner',
  'botWithRoles', 'botWithoutRoles', 'siteAdmin', 'deployment', 'adminAMaintainerB', 'maintainerAUserB',
] as const;
export type Who = (typeof WHO)[number];

/** Callers that hold some role in env A (the deployment acts inside its own env, A). */
export const IN_ENV_A: readonly Who[] = [
  'envUser', 'envAdmin', 'kindMaintainer', 'kindOwner', 'botWithRoles', 'deployment', 'adminAMaintainerB', 'maintainerAUserB',
];
/** Callers that hold some role in env B. */
export const IN_ENV_B: readonly Who[] = ['adminAMaintainerB', 'maintainerAUserB'];
/** Env Admins (of A; nobody in WHO is an Admin of B): they see every user and bot, and A's audit trail. */
export const ADMINS_OF_A: readonly Who[] = ['envAdmin', 'adminAMaintainerB'];
export const AUTHENTICATED: readonly Who[] = WHO.filter((w) => w !== 'anonymous' && w !== 'inactiveUser');
export const USERS: readonly Who[] = [
  'userWithoutRole', 'envUser', 'envAdmin', 'kindMaintainer', 'kindOwner', 'siteAdmin', 'adminAMaintainerB', 'maintainerAUserB',
];

/** One seeded row: its GraphQL type and who may see it. */
export interface Seeded {
  type: string;
  id: string;
  visibleTo: ReadonlySet<Who>;
}

export interface EnvSlice {
  env: Env;
  cluster: K8sCluster;
  serviceAccount: K8sServiceAccount;
  deployment: Deployment;
  secret: Secret;
  kind: DeploymentKind;
  chart: HelmChart;
}

export interface World {
  callers: Record<Who, Caller | null>;
  rows: Seeded[];
  a: EnvSlice;
  b: EnvSlice;
}

/**
 * Two envs with the same contents, every role in env A, none in env B but those of the two-env
 * callers, catalogs shared: a caller seeing anything of an env it holds no role in, or missing
 * something of an env it holds a role in, is a defect.
 */
export async function seedWorld(server: TestServer): Promise<World> {
  const rows: Seeded[] = [];
  const add = (type: string, id: string, visibleTo: Iterable<Who>) => rows.push({ type, id, visibleTo: new Set([...visibleTo, 'siteAdmin']) });

  const em = server.em.fork();
  const tagFormat = build(HelmTagFormat, { pattern: `^(?<version>[0-9.]+)-${randomUUID().slice(0, 6)}$` });
  const kind = build(DeploymentKind, { name: 'Matrix' });
  const registry = build(HelmRegistry, { domainName: 'registry.example.com', repoName: 'matrix-chart', kind, provider: HelmRegistryProvider.Oci });
  const chart = build(HelmChart, {
    helmRegistry: registry,
    imageDigest: 'sha256:matrix',
    imageTag: '1.0.0',
    features: { cardinality: 'Many' },
    actionsSchema: { actions: [{ id: 'ping', title: 'Ping' }] },
  });
  const globalType = build(DeploymentResourceType, { deploymentKind: kind, key: 'global-db', spec: {} });
  em.persist([tagFormat, kind, registry, chart, globalType]);
  await em.flush();
  for (const [type, id] of [['HelmTagFormat', tagFormat.id], ['DeploymentKind', kind.id], ['HelmRegistry', registry.id], ['HelmChart', chart.id], ['DeploymentResourceType', globalType.id]] as const) {
    add(type, id, AUTHENTICATED);
  }

  const slice = async (name: string, visibleTo: readonly Who[]): Promise<EnvSlice> => {
    const env = build(Env, { name: `env-${name}` });
    const cluster = build(K8sCluster, { env, providerId: `matrix:${name}`, name: `cluster-${name}`, ignore: false });
    const namespace = build(K8sNamespace, { cluster, name: `ns-${name}` });
    const serviceAccount = build(K8sServiceAccount, { namespace, name: 'default' });
    const deployment = build(Deployment, { name: `app-${name}`, kind, cluster, helmChart: chart });
    const task = build(DeploymentTask, { deployment, cluster, operation: { Reinstall: { reason: 'seed' } } });
    const k8sResource = build(K8sResource, { cluster, deployment, kind: 'Deployment', apiVersion: 'apps/v1', name: `app-${name}`, metadata: {} } as never);
    const resourceType = build(DeploymentResourceType, { env, deploymentKind: kind, key: `db-${name}`, spec: {} });
    const resource = build(DeploymentResource, { type: resourceType, deployment, name: `db-${name}`, props: {} });
    const secret = build(Secret, { env, collection: 'db', name: `password-${name}`, contentsEncrypted: 'v1.x.y.z.w' });
    const audit = build(AuditRecord, { actorKind: 'user', operation: 'seed', targetType: 'Env', targetId: env.id, env: env.id, requestId: 'seed' });
    em.persist([env, cluster, namespace, serviceAccount, deployment, task, k8sResource, resourceType, resource, secret, audit]);
    await em.flush();
    for (const [type, id] of [
      ['Env', env.id], ['K8sCluster', cluster.id], ['K8sNamespace', namespace.id], ['K8sServiceAccount', serviceAccount.id],
      ['Deployment', deployment.id], ['DeploymentTask', task.id], ['K8sResource', k8sResource.id],
      ['DeploymentResourceType', resourceType.id], ['DeploymentResource', resource.id], ['Secret', secret.id],
    ] as const) {
      add(type, id, visibleTo);
    }
    add('AuditRecord', audit.id, name === 'a' ? ADMINS_OF_A : []);
    return { env, cluster, serviceAccount, deployment, secret, kind, chart };
  };
  const a = await slice('a', IN_ENV_A);
  const b = await slice('b', IN_ENV_B);

  // people: every user sees itself; env Admins and site admins see everyone (they grant roles)
  const callers = { anonymous: null } as Record<Who, Caller | null>;
  const userFields: Partial<Record<Who, object>> = { inactiveUser: { isActive: false }, siteAdmin: { isAdmin: true } };
  for (const who of [...USERS, 'inactiveUser'] as const) callers[who] = await createUser(server, { username: `matrix-${who}`, ...userFields[who] });
  for (const who of ['botWithRoles', 'botWithoutRoles'] as const) callers[who] = await createBot(server, `matrix-${who}`);
  callers.deployment = await deploymentCaller(server, a.deployment.id);
  const userB = await createUser(server, { username: 'matrix-admin-of-b' });
  const [bootstrapAdmin] = await server.sql<{ id: string }>(`select id from users where username = 'admin'`);
  for (const who of [...USERS, 'inactiveUser'] as const) add('User', callers[who]!.id, [who, ...ADMINS_OF_A]);
  add('User', userB.id, ADMINS_OF_A);
  add('User', bootstrapAdmin.id, ADMINS_OF_A);
  for (const who of ['botWithRoles', 'botWithoutRoles'] as const) add('Bot', callers[who]!.id, [who, ...ADMINS_OF_A]);
  for (const who of [...USERS, 'inactiveUser'] as const) {
    const [token] = await server.sql<{ id: string }>('select id from user_tokens where user_id = ?', [callers[who]!.id]);
    add('UserToken', token.id, [who]);
  }
  const [userBToken] = await server.sql<{ id: string }>('select id from user_tokens where user_id = ?', [userB.id]);
  add('UserToken', userBToken.id, []);
  for (const botToken of await server.sql<{ id: string }>('select id from bot_tokens')) add('BotToken', botToken.id, []);

  // roles, in env A, and in env B for the two-env callers (and one admin of B, to be hidden from everyone in A)
  const grants: [Who, EnvSlice, 'env' | 'kind', EnvUserRole | UserDeploymentRole][] = [
    ['envUser', a, 'env', EnvUserRole.User],
    ['envAdmin', a, 'env', EnvUserRole.Admin],
    ['kindMaintainer', a, 'kind', UserDeploymentRole.Maintainer],
    ['kindOwner', a, 'kind', UserDeploymentRole.Owner],
    ['botWithRoles', a, 'env', EnvUserRole.User],
    ['botWithRoles', a, 'kind', UserDeploymentRole.Owner],
    ['adminAMaintainerB', a, 'env', EnvUserRole.Admin],
    ['adminAMaintainerB', b, 'kind', UserDeploymentRole.Maintainer],
    ['maintainerAUserB', a, 'kind', UserDeploymentRole.Maintainer],
    ['maintainerAUserB', b, 'env', EnvUserRole.User],
  ];
  for (const [who, { env }, scope, role] of grants) {
    const holder = who.startsWith('bot') ? { botId: callers[who]!.id } : { userId: callers[who]!.id };
    if (scope === 'env') await grantEnvRole(server, env.id, holder, role as EnvUserRole);
    else await grantKindRole(server, env.id, kind.id, holder, role as UserDeploymentRole);
  }
  await grantEnvRole(server, b.env.id, { userId: userB.id }, EnvUserRole.Admin);
  const inEnv = (envId: string) => (envId === a.env.id ? IN_ENV_A : IN_ENV_B);
  for (const row of await server.sql<{ id: string; env_id: string }>('select id, env_id from env_user_permissions')) add('EnvUserPermission', row.id, inEnv(row.env_id));
  for (const row of await server.sql<{ id: string; env_id: string }>('select id, env_id from deployment_permissions')) add('DeploymentPermission', row.id, inEnv(row.env_id));

  // Kubportal groups: an explicit one (envUser), an "all accounts" one (every user), an empty one
  const explicit = build(Group, { name: 'matrix-explicit' });
  const allAccounts = build(Group, { name: 'matrix-all', specialAllAccounts: true });
  const empty = build(Group, { name: 'matrix-empty' });
  const shown = build(WebApp, { name: 'shown', linkShow: true, linkUrl: 'https://grafana.example.com/{{namespace}}' });
  const hidden = build(WebApp, { name: 'hidden', linkShow: false, linkUrl: 'https://hidden.example.com' });
  const forAll = build(WebApp, { name: 'for-all', linkShow: true, linkUrl: 'https://wiki.example.com' });
  const ofEmpty = build(WebApp, { name: 'of-empty', linkShow: true, linkUrl: 'https://nobody.example.com' });
  const gem = server.em.fork();
  gem.persist([explicit, allAccounts, empty, shown, hidden, forAll, ofEmpty]);
  await gem.flush();
  gem.persist([
    build(GroupMember, { group: explicit, user: gem.getReference(User, callers.envUser!.id) }),
    build(GroupWebApp, { group: explicit, webApp: shown }),
    build(GroupWebApp, { group: explicit, webApp: hidden }),
    build(GroupWebApp, { group: allAccounts, webApp: forAll }),
    build(GroupWebApp, { group: empty, webApp: ofEmpty }),
  ]);
  await gem.flush();
  const everyUser = USERS.filter((u) => u !== 'siteAdmin');
  add('Group', explicit.id, ['envUser']);
  add('Group', allAccounts.id, everyUser);
  add('Group', empty.id, []);
  add('WebApp', shown.id, ['envUser']);
  add('WebApp', hidden.id, []);
  add('WebApp', forAll.id, everyUser);
  add('WebApp', ofEmpty.id, []);

  return { callers, rows, a, b };
}

export const expectedIds = (world: World, type: string, who: Who) =>
  world.rows.filter((r) => r.type === type && r.visibleTo.has(who)).map((r) => r.id).sort();
