import { AuditRecordResolver } from './audit-record.resolver.js';
import { AuthResolver } from './auth.resolver.js';
import { BotTokenResolver } from './bot-token.resolver.js';
import { BotResolver } from './bot.resolver.js';
import { DeploymentKindResolver } from './deployment-kind.resolver.js';
import { DeploymentPermissionResolver } from './deployment-permission.resolver.js';
import { DeploymentResourceTypeResolver } from './deployment-resource-type.resolver.js';
import { DeploymentResourceResolver } from './deployment-resource.resolver.js';
import { DeploymentTaskResolver } from './deployment-task.resolver.js';
import { DeploymentResolver } from './deployment.resolver.js';
import { EventResolver } from './event.resolver.js';
import { EnvUserPermissionResolver } from './env-user-permission.resolver.js';
import { EnvResolver } from './env.resolver.js';
import { GroupResolver } from './group.resolver.js';
import { HelmChartResolver } from './helm-chart.resolver.js';
import { HelmRegistryResolver } from './helm-registry.resolver.js';
import { HelmTagFormatResolver } from './helm-tag-format.resolver.js';
import { K8sClusterResolver } from './k8s-cluster.resolver.js';
import { K8sNamespaceResolver } from './k8s-namespace.resolver.js';
import { K8sResourceResolver } from './k8s-resource.resolver.js';
import { K8sServiceAccountResolver } from './k8s-service-account.resolver.js';
import { SecretResolver } from './secret.resolver.js';
import { ServerInfoResolver } from './server-info.resolver.js';
import { SingleSignOnResolver } from './single-sign-on.resolver.js';
import { UserTokenResolver } from './user-token.resolver.js';
import { UserResolver } from './user.resolver.js';
import { WebAppResolver } from './web-app.resolver.js';

export const resolvers = [
  AuditRecordResolver, AuthResolver, ServerInfoResolver, UserResolver, GroupResolver, WebAppResolver, EnvResolver, EnvUserPermissionResolver,
  K8sClusterResolver, K8sNamespaceResolver, K8sServiceAccountResolver, DeploymentKindResolver, HelmRegistryResolver,
  HelmTagFormatResolver, HelmChartResolver, DeploymentResolver, DeploymentPermissionResolver, DeploymentTaskResolver,
  DeploymentResourceTypeResolver, DeploymentResourceResolver, K8sResourceResolver, SecretResolver, UserTokenResolver,
  BotResolver, BotTokenResolver, SingleSignOnResolver, EventResolver,
] as const;
