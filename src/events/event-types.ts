import type { EntityClass } from '@mikro-orm/core';
import {
  Bot, Deployment, DeploymentKind, DeploymentPermission, DeploymentResource, DeploymentTask, Env, EnvUserPermission, Group,
  HelmChart, HelmRegistry, HelmTagFormat, K8sCluster, K8sResource, Secret, User, WebApp,
} from '../entities/index.js';

/**
 * The aggregates that produce change events, by the table name the log (and Platz) uses. The
 * triggers writing them are in migration Issue4Events; a table added there is added here.
 */
export const EVENT_TABLES = {
  deployments: Deployment,
  deployment_tasks: DeploymentTask,
  deployment_resources: DeploymentResource,
  k8s_resources: K8sResource,
  k8s_clusters: K8sCluster,
  envs: Env,
  env_user_permissions: EnvUserPermission,
  deployment_permissions: DeploymentPermission,
  secrets: Secret,
  users: User,
  bots: Bot,
  groups: Group,
  web_apps: WebApp,
  helm_charts: HelmChart,
  helm_registries: HelmRegistry,
  deployment_kinds: DeploymentKind,
  helm_tag_formats: HelmTagFormat,
} satisfies Record<string, EntityClass<{ id: string }>>;

export type EventTable = keyof typeof EVENT_TABLES;

export const isEventTable = (table: string): table is EventTable => Object.hasOwn(EVENT_TABLES, table);

export const entityOf = (table: EventTable): EntityClass<{ id: string }> => EVENT_TABLES[table];

/**
 * The identities whose grants an event may change ('*' for everyone): their roles, their admin flag,
 * a group's membership or web apps. Grants are read again for those before the event is judged.
 */
export function grantsChangedBy(event: { table: string; id: string; refs: Record<string, unknown> }): string[] {
  const ref = (kind: string, id: unknown) => (typeof id === 'string' ? [`${kind}:${id}`] : []);
  switch (event.table) {
    case 'env_user_permissions':
    case 'deployment_permissions':
      return [...ref('user', event.refs.user_id), ...ref('bot', event.refs.bot_id)];
    case 'users':
      return [`user:${event.id}`];
    case 'bots':
      return [`bot:${event.id}`];
    case 'groups':
    case 'web_apps':
      return ['*'];
    default:
      return [];
  }
}
