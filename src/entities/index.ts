import { AuditRecord } from './audit-record.entity.js';
import { Bot } from './bot.entity.js';
import { BotToken } from './bot-token.entity.js';
import { Deployment } from './deployment.entity.js';
import { DeploymentKind } from './deployment-kind.entity.js';
import { DeploymentPermission } from './deployment-permission.entity.js';
import { DeploymentResource } from './deployment-resource.entity.js';
import { DeploymentResourceType } from './deployment-resource-type.entity.js';
import { DeploymentTask } from './deployment-task.entity.js';
import { Env } from './env.entity.js';
import { EnvApiKey } from './env-api-key.entity.js';
import { EventRecord } from './event-record.entity.js';
import { GrantVersion } from './grant-version.entity.js';
import { EnvUserPermission } from './env-user-permission.entity.js';
import { Group, GroupMember, GroupWebApp } from './group.entity.js';
import { HelmChart } from './helm-chart.entity.js';
import { HelmRegistry } from './helm-registry.entity.js';
import { HelmTagFormat } from './helm-tag-format.entity.js';
import { K8sCluster } from './k8s-cluster.entity.js';
import { K8sNamespace } from './k8s-namespace.entity.js';
import { K8sResource } from './k8s-resource.entity.js';
import { K8sServiceAccount } from './k8s-service-account.entity.js';
import { NumericAlias } from './numeric-alias.entity.js';
import { OidcLogin } from './oidc-login.entity.js';
import { Secret } from './secret.entity.js';
import { Setting } from './setting.entity.js';
import { User } from './user.entity.js';
import { UserSession } from './user-session.entity.js';
import { UserToken } from './user-token.entity.js';
import { WebApp } from './web-app.entity.js';

export {
  AuditRecord, Bot, BotToken, Deployment, DeploymentKind, DeploymentPermission, DeploymentResource, DeploymentResourceType,
  DeploymentTask, Env, EnvApiKey, EnvUserPermission, EventRecord, GrantVersion, Group, GroupMember, GroupWebApp, HelmChart, HelmRegistry, HelmTagFormat,
  K8sCluster, K8sNamespace, K8sResource, K8sServiceAccount, NumericAlias, OidcLogin, Secret, Setting, User, UserSession, UserToken, WebApp,
};

/** Every entity, listed explicitly (no glob discovery: MikroORM 7 + jest ESM). */
export const entities = [
  AuditRecord, Bot, BotToken, Deployment, DeploymentKind, DeploymentPermission, DeploymentResource, DeploymentResourceType,
  DeploymentTask, Env, EnvApiKey, EnvUserPermission, EventRecord, GrantVersion, Group, GroupMember, GroupWebApp, HelmChart, HelmRegistry, HelmTagFormat,
  K8sCluster, K8sNamespace, K8sResource, K8sServiceAccount, NumericAlias, OidcLogin, Secret, Setting, User, UserSession, UserToken, WebApp,
];
