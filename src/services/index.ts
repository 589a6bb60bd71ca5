import type { Authenticator } from '../auth/authenticator.js';
import type { Keyring } from '../auth/encryption.js';
import type { LoginThrottle } from '../auth/login-throttle.js';
import type { Config } from '../config/config.js';
import type { EventHub } from '../events/event-hub.js';
import type { ServiceContext } from '../request/context.js';
import { ApplicationService } from './application.service.js';
import { AuditRecordService } from './audit-record.service.js';
import { AuthService } from './auth.service.js';
import { BeaconService } from './beacon.service.js';
import { BotTokenService } from './bot-token.service.js';
import { BotService } from './bot.service.js';
import { DeploymentKindService } from './deployment-kind.service.js';
import { DeploymentPermissionService } from './deployment-permission.service.js';
import { DeploymentResourceTypeService } from './deployment-resource-type.service.js';
import { DeploymentResourceService } from './deployment-resource.service.js';
import { DeploymentTaskService } from './deployment-task.service.js';
import { DeploymentService } from './deployment.service.js';
import { EnvUserPermissionService } from './env-user-permission.service.js';
import { EnvApiKeyService } from './env-api-key.service.js';
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
import { NumericAliasService } from './numeric-alias.service.js';
import { SecretService } from './secret.service.js';
import { ServerInfoService } from './server-info.service.js';
import { SingleSignOnService } from './single-sign-on.service.js';
import { UserTokenService } from './user-token.service.js';
import { UserService } from './user.service.js';
import { WebAppService } from './web-app.service.js';
import { UnitOfWork } from './unit-of-work.js';

/** One instance of every service, built once at boot and shared by GraphQL, REST and WebSocket handlers. */
export interface ServiceDeps {
  authenticator: Authenticator;
  config: Config;
  /** encrypts secret contents and cluster credentials at rest */
  keyring: Keyring;
  /** this process's follower of the event log, told of every commit */
  events: EventHub;
  /** failed logins, counted in a store the replicas share */
  loginThrottle: LoginThrottle;
}

export function createServices(deps: ServiceDeps) {
  const uow = new UnitOfWork(deps.events, deps.authenticator.grants);
  const { authenticator, config, keyring } = deps;
  const auth = new AuthService(uow, authenticator, config.REFRESH_TOKEN_TTL_SECONDS, deps.loginThrottle);
  const groups = new GroupService(uow, authenticator);
  const serverInfo = new ServerInfoService();
  const k8sClusters = new K8sClusterService(uow, keyring, {
    timeoutMs: config.K8S_REQUEST_TIMEOUT_MS,
    statisticsCacheMs: config.K8S_STATISTICS_CACHE_SECONDS * 1000,
    portalVersion: serverInfo.info().version,
  });
  const beacons = new BeaconService(uow, k8sClusters);
  const deployments = new DeploymentService(uow);
  const events = new EventService(deps.events);
  const numericAliases = new NumericAliasService();
  return {
    uow,
    auth,
    auditRecords: new AuditRecordService(),
    serverInfo,
    users: new UserService(uow, auth, authenticator, k8sClusters, beacons, keyring, config.SIGNUP_ENABLED),
    groups,
    webApps: new WebAppService(uow, groups),
    envs: new EnvService(uow),
    envApiKeys: new EnvApiKeyService(uow),
    envUserPermissions: new EnvUserPermissionService(uow),
    k8sClusters,
    beacons,
    k8sNamespaces: new K8sNamespaceService(),
    k8sServiceAccounts: new K8sServiceAccountService(),
    deploymentKinds: new DeploymentKindService(uow),
    helmRegistries: new HelmRegistryService(uow),
    helmTagFormats: new HelmTagFormatService(uow),
    helmCharts: new HelmChartService(uow),
    deployments,
    applications: new ApplicationService(uow, deployments, numericAliases, beacons, events, config.APPLICATION_PROGRESS_TIMEOUT_SECONDS * 1000),
    deploymentPermissions: new DeploymentPermissionService(uow),
    deploymentTasks: new DeploymentTaskService(uow),
    deploymentResourceTypes: new DeploymentResourceTypeService(),
    deploymentResources: new DeploymentResourceService(uow),
    k8sResources: new K8sResourceService(uow),
    secrets: new SecretService(uow, keyring),
    userTokens: new UserTokenService(uow, authenticator),
    bots: new BotService(uow, authenticator),
    botTokens: new BotTokenService(uow, authenticator),
    singleSignOn: new SingleSignOnService(uow, auth, config),
    events,
    numericAliases,
  };
}

export type Services = ReturnType<typeof createServices>;

/** What a request's handlers receive (GraphQL's resolvers, REST's routes): its service context, and the services to call with it. */
export type RequestContext = ServiceContext & { services: Services };
