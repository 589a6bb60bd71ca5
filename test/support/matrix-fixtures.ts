import { hashSecret, newOpaqueToken } from '../../src/auth/opaque-token.js';
import { Bot, BotToken, Deployment, DeploymentResource, DeploymentResourceType, DeploymentTask, Env, Group, K8sCluster, User, UserToken, WebApp } from '../../src/entities/index.js';
import { build, persist, unique } from './fixtures.js';
import { USERS, type Who, type World } from './matrix-world.js';
import type { TestServer } from './server.js';

/** Fresh targets for one call of the authorization matrix (GraphQL's and REST's), so no call depends on another's. */
export function matrixFixtures(server: TestServer, world: World) {
  const { a } = world;
  const ref = <T extends object>(entity: new () => T, id: string) => server.em.fork().getReference(entity, id as never);
  const freshDeployment = async (slice = a) =>
    (await persist(server, build(Deployment, { name: `fresh-${unique()}`, kind: slice.kind, cluster: slice.cluster, helmChart: slice.chart })))[0];
  const tokenRow = <T extends UserToken | BotToken>(entity: new () => T, fields: Partial<T>) => {
    const token = newOpaqueToken();
    return build(entity, { id: token.id, secretHash: hashSecret(token.secret), ...fields } as Partial<T>);
  };
  return {
    ref,
    /** a caller's own user; a caller that is no user gets one it does not own (the call is refused either way) */
    callerUserId: (who: Who) => world.callers[USERS.includes(who) ? who : 'userWithoutRole']!.id,
    /** a row's id, inserted for one call */
    fresh: async (row: { id: string }) => (await persist(server, row))[0].id,
    freshUser: async (fields: Partial<User> = {}) => {
      const name = `fresh-${unique()}`;
      return (await persist(server, build(User, { username: name, email: `${name}@example.com`, displayName: name, ...fields })))[0];
    },
    freshEnv: async () => (await persist(server, build(Env, { name: `fresh-${unique()}` })))[0],
    freshDeployment,
    freshCluster: async () => (await persist(server, build(K8sCluster, { env: a.env, providerId: `fresh:${unique()}`, name: 'fresh' })))[0],
    /** a resource type of env A, with a resource of a new deployment there */
    freshResource: async () => {
      const deployment = await freshDeployment();
      const [type] = await persist(server, build(DeploymentResourceType, { env: a.env, deploymentKind: a.kind, key: `t-${unique()}`, spec: {} }));
      const [resource] = await persist(server, build(DeploymentResource, { type, deployment, name: `r-${unique()}`, props: { size: 1 } }));
      return { deployment, type, resource };
    },
    freshGroup: async () => (await persist(server, build(Group, { name: `group-${unique()}` })))[0],
    freshWebApp: async () => (await persist(server, build(WebApp, { name: `app-${unique()}`, linkUrl: 'https://example.com' })))[0],
    freshBot: async () => (await persist(server, build(Bot, { displayName: `bot-${unique()}` })))[0],
    /** an API token row (its secret never used) */
    tokenRow,
    /** a Pending task of a new deployment in env A, acted for by kindMaintainer, due in an hour (past Platz's 5 minutes) */
    scheduledTask: async () =>
      (
        await persist(
          server,
          build(DeploymentTask, {
            deployment: await freshDeployment(),
            cluster: a.cluster,
            operation: { Reinstall: { reason: 'matrix' } },
            actingUser: ref(User, world.callers.kindMaintainer!.id),
            executeAt: new Date(Date.now() + 3_600_000),
          }),
        )
      )[0],
  };
}
