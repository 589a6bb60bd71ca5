import { randomUUID } from 'node:crypto';
import type { SqlEntityManager } from '@mikro-orm/sql';
import {
  Deployment, DeploymentKind, DeploymentTask, Env, HelmChart, HelmRegistry, K8sCluster,
} from '../../src/entities/index.js';
import { DeploymentTaskStatus, HelmRegistryProvider } from '../../src/entities/enums.js';
import type { TestServer } from './server.js';

/** Builds an entity with defaults from its class, then the given fields (em.create wants every defaulted field). */
export function build<T extends object>(entity: new () => T, fields: Partial<T>): T {
  return Object.assign(new entity(), fields);
}

/** Inserts the rows through the ORM (in a fork of its entity manager) and returns them. */
export async function persist<T extends object[]>(server: TestServer, ...rows: T): Promise<T> {
  const em = server.em.fork();
  em.persist(rows);
  await em.flush();
  return rows;
}

/** A short random suffix, for names that must not collide with other tests' rows. */
export const unique = () => randomUUID().slice(0, 8);

/**
 * Like build(), but each row gets a createdAt one second after the previous one, so "oldest first"
 * lists come back in declaration order. One sequence per test file.
 */
export function inCreationOrder(start = Date.now() - 86_400_000) {
  let tick = 0;
  return <T extends { createdAt: Date }>(entity: new () => T, fields: Partial<T>): T =>
    build(entity, { createdAt: new Date(start + tick++ * 1000), ...fields } as Partial<T>);
}

export interface Fleet {
  env: Env;
  clusters: K8sCluster[];
  kinds: DeploymentKind[];
  charts: HelmChart[];
  deployments: Deployment[];
}

/**
 * A realistic slice of a portal: one env, several clusters, kinds with a registry and chart each,
 * and `deployments` deployments spread over them, each with `tasksPerDeployment` tasks.
 */
export async function seedFleet(
  rootEm: SqlEntityManager,
  { deployments = 50, clusters = 5, kinds = 3, tasksPerDeployment = 2, prefix = 'fleet' } = {},
): Promise<Fleet> {
  const em = rootEm.fork();
  const env = build(Env, { name: `${prefix}-env` });
  const clusterRows = Array.from({ length: clusters }, (_, i) => build(K8sCluster, { env, providerId: `${prefix}:cluster-${i}`, name: `${prefix}-cluster-${i}`, ignore: false, isOk: true }));
  const kindRows = Array.from({ length: kinds }, (_, i) => build(DeploymentKind, { name: `${prefix}Kind${i}` }));
  const registries = kindRows.map((kind, i) => build(HelmRegistry, { domainName: 'registry.example.com', repoName: `${prefix}-repo-${i}`, kind, provider: HelmRegistryProvider.Oci }));
  const charts = registries.map((helmRegistry, i) => build(HelmChart, { helmRegistry, imageDigest: `sha256:${i}`, imageTag: `1.0.${i}` }));
  const base = Date.now() - 3_600_000;
  const deploymentRows = Array.from({ length: deployments }, (_, i) =>
    build(Deployment, {
      name: `app-${i}`,
      cluster: clusterRows[i % clusters],
      kind: kindRows[i % kinds],
      helmChart: charts[i % kinds],
      createdAt: new Date(base + i * 1000),
    }),
  );
  em.persist([env, ...clusterRows, ...kindRows, ...registries, ...charts, ...deploymentRows]);
  for (const [i, deployment] of deploymentRows.entries()) {
    for (let t = 0; t < tasksPerDeployment; t++) {
      em.persist(
        build(DeploymentTask, {
          deployment,
          cluster: deployment.cluster,
          operation: { Reinstall: { reason: `task ${t}` } },
          status: t === tasksPerDeployment - 1 ? DeploymentTaskStatus.Pending : DeploymentTaskStatus.Done,
          createdAt: new Date(base + i * 1000 + t * 10),
          executeAt: new Date(base + i * 1000 + t * 10),
        }),
      );
    }
  }
  await em.flush();
  return { env, clusters: clusterRows, kinds: kindRows, charts, deployments: deploymentRows };
}
