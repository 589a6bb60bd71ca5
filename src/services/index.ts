import type { Authenticator } from '../auth/authenticator.js';
import type { Keyring } from '../auth/encryption.js';
import type { Config } from '../config/config.js';
import type { EventHub } from '../events/event-hub.js';
import { AuditRecordService } from './audit-record.service.js';
import { AuthService } from './auth.service.js';
import { BotTokenService } from './bot-token.service.js';
import { BotService } from './bot.service.js';
import { DeploymentKindService } from './deployment-kind.service.js';
import { DeploymentPermissionService } from './deployment-permission.service.js';
import { DeploymentResourceTypeService } from './deployment-resource-type.service.js';
import { DeploymentResourceService } from './deployment-resource.service.js';
import { DeploymentTaskService } from './deployment-task.service.js';
import { DeploymentService } from './deployment.service.js';
import { EnvUserPermissionService } from './env-user-permission.service.js';
import { EnvService } from './env.service.js';
import { EventService } from './event.service.js';
import { GroupService } from './group.service.js';
import { HelmChartService } from './helm-chart.service.js';
import { HelmRegistryService } from './helm-registry.service.js';
import { HelmTagFormatService } from './helm-tag-format.service.js';
import { K8sClusterService } from './k8s-cluster.service.js';
import { K8sNamespaceService } from './k8s-namespace.service.js';
import { K8sResourceService } from './k8s-resource.service.js';
import { K8sServiceAccountService } from './k8s-service-account.service.js';
import { SecretService } from './secret.service.js';
import { ServerInfoService } from './server-info.service.js';
import { SingleSignOnService } from './single-sign-on.service.js';
import { UserTokenService } from './user-token.service.js';
import { UserService } from './user.service.js';
import { WebAppService } from './web-app.service.js';

/** One instance of every service, built once at boot and shared by GraphQL, REST and WebSocket handlers. */
export interface ServiceDeps {
  authenticator: Authenticator;
  config: Config;
  /** encrypts secret contents and cluster credentials at rest */
  keyring: Keyring;
  /** this process's follower of the event log */
  events: EventHub;
}

export function createServices(deps: ServiceDeps) {
  return {
    auth: new AuthService(deps.authenticator, deps.config.REFRESH_TOKEN_TTL_SECONDS),
    auditRecords: new AuditRecordService(),
    serverInfo: new ServerInfoService(),
    users: new UserService(deps.authenticator, deps.config.SIGNUP_ENABLED),
    groups: new GroupService(deps.authenticator),
    webApps: new WebAppService(),
    envs: new EnvService(),
    envUserPermissions: new EnvUserPermissionService(),
    k8sClusters: new K8sClusterService(deps.keyring),
    k8sNamespaces: new K8sNamespaceService(),
    k8sServiceAccounts: new K8sServiceAccountService(),
    deploymentKinds: new DeploymentKindService(),
    helmRegistries: new HelmRegistryService(),
    helmTagFormats: new HelmTagFormatService(),
    helmCharts: new HelmChartService(),
    deployments: new DeploymentService(),
    deploymentPermissions: new DeploymentPermissionService(),
    deploymentTasks: new DeploymentTaskService(),
    deploymentResourceTypes: new DeploymentResourceTypeService(),
    deploymentResources: new DeploymentResourceService(),
    k8sResources: new K8sResourceService(),
    secrets: new SecretService(deps.keyring),
    userTokens: new UserTokenService(deps.authenticator),
    bots: new BotService(deps.authenticator),
    botTokens: new BotTokenService(deps.authenticator),
    singleSignOn: new SingleSignOnService(deps.config),
    events: new EventService(deps.events),
  };
}

export type Services = ReturnType<typeof createServices>;
