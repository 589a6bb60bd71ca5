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
