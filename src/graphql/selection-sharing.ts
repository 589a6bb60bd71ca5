import type { EntityClass } from '@mikro-orm/core';
import {
  getNamedType, getOperationAST, isAbstractType, isObjectType, Kind,
  type DocumentNode, type FragmentDefinitionNode, type GraphQLCompositeType, type GraphQLObjectType, type GraphQLSchema, type SelectionSetNode,
} from 'graphql';
import { getMetadataStorage } from 'type-graphql';
import {
  Bot, Deployment, DeploymentKind, DeploymentPermission, DeploymentResource, DeploymentResourceType, DeploymentTask, Env,
  EnvUserPermission, Group, HelmChart, HelmRegistry, HelmTagFormat, K8sCluster, K8sNamespace, K8sResource, K8sServiceAccount,
  Secret, User, WebApp,
} from '../entities/index.js';

/**
 * What the result of a subscription's selection depends on besides the message (the change and the object as it
 * is now), which decides who may share one execution of it (src/server/shared-execution.ts):
 * - `message`: nothing. Every field reads the message or the object's own columns: anyone handed the same
 *   message gets the same result, whatever they may see.
 * - `scope`: also related rows, read through the read policy of `entities` (src/graphql/relations.ts):
 *   identities whose grants see the same rows of each (`sharedScopeKey`) get the same result.
 * - `caller`: something else about who asks (a field filled from the caller's service account, one filtered
 *   by their roles in code, or one this module does not know): executed per identity.
 */
export type SelectionSharing = { kind: 'message' } | { kind: 'scope'; entities: readonly EntityClass<unknown>[] } | { kind: 'caller' };

type FieldSharing = 'message' | 'caller' | readonly EntityClass<unknown>[];

/**
 * Field resolvers that read related rows only through src/graphql/relations.ts (loadOne, loadRequired,
 * loadMany, loadThrough), by the aggregates they read: their result depends on the caller through those
 * aggregates' read policy alone. A field resolver left out is treated as depending on the caller; add one
 * here only when that holds for its code. Fields without a resolver of their own (columns) and resolvers
 * that take no context are recognised from type-graphql's metadata, not listed.
 */
const RELATIONS: Record<string, Record<string, readonly EntityClass<unknown>[]>> = {
  Bot: { envPermissions: [EnvUserPermission], deploymentPermissions: [DeploymentPermission] },
  BotToken: { bot: [Bot], createdByUser: [User] },
  Deployment: {
    cluster: [K8sCluster], env: [K8sCluster, Env], kind: [DeploymentKind], helmChart: [HelmChart], revision: [DeploymentTask],
    tasks: [DeploymentTask], latestTask: [DeploymentTask], k8sResources: [K8sResource], resources: [DeploymentResource],
  },
  DeploymentKind: { helmRegistries: [HelmRegistry], deployments: [Deployment] },
  DeploymentPermission: { env: [Env], user: [User], bot: [Bot], kind: [DeploymentKind] },
  DeploymentResource: { type: [DeploymentResourceType], deployment: [Deployment], props: [DeploymentResourceType] },
  DeploymentResourceType: { env: [Env], deploymentKind: [DeploymentKind], resources: [DeploymentResource] },
  DeploymentTask: {
    cluster: [K8sCluster], deployment: [Deployment], actingUser: [User], actingBot: [Bot], actingDeployment: [Deployment],
    canceledByUser: [User], canceledByBot: [Bot], canceledByDeployment: [Deployment],
  },
  Env: {
    owner: [User], clusters: [K8sCluster], deployments: [K8sCluster, Deployment], userPermissions: [EnvUserPermission],
    deploymentPermissions: [DeploymentPermission], secrets: [Secret],
  },
  EnvUserPermission: { env: [Env], user: [User], bot: [Bot] },
  Group: { members: [User], webApps: [WebApp] },
  HelmChart: { helmRegistry: [HelmRegistry], kind: [HelmRegistry, DeploymentKind], tagFormat: [HelmTagFormat] },
  HelmRegistry: { kind: [DeploymentKind], charts: [HelmChart] },
  K8sCluster: { env: [Env], deployments: [Deployment], namespaces: [K8sNamespace], k8sResources: [K8sResource] },
  K8sNamespace: { cluster: [K8sCluster], serviceAccounts: [K8sServiceAccount] },
  K8sResource: { cluster: [K8sCluster], deployment: [Deployment] },
  K8sServiceAccount: { namespace: [K8sNamespace], users: [User] },
  Secret: { env: [Env] },
  User: { serviceAccount: [K8sServiceAccount], envPermissions: [EnvUserPermission], deploymentPermissions: [DeploymentPermission] },
  UserToken: { user: [User] },
  WebApp: { groups: [Group] },
};

const MESSAGE: SelectionSharing = { kind: 'message' };
const CALLER: SelectionSharing = { kind: 'caller' };

const analyses = new WeakMap<DocumentNode, Map<string, SelectionSharing>>();

/** What a subscription operation's selection depends on (see SelectionSharing); worked out once per document and operation. */
export function selectionSharing(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): SelectionSharing {
  let byOperation = analyses.get(document);
  if (!byOperation) analyses.set(document, (byOperation = new Map()));
  let sharing = byOperation.get(operationName ?? '');
  if (!sharing) byOperation.set(operationName ?? '', (sharing = analyse(schema, document, operationName)));
  return sharing;
}

function analyse(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): SelectionSharing {
  const operation = getOperationAST(document, operationName);
  const root = schema.getSubscriptionType();
  if (operation?.operation !== 'subscription' || !root) return CALLER;
  const fields = fieldTable(schema);
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const entities = new Set<EntityClass<unknown>>();
  let caller = false;
  // every field the selection may reach, whatever @skip and @include decide: a superset is on the safe side
  const visit = (type: GraphQLCompositeType, set: SelectionSetNode, spread: ReadonlySet<string>) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (name === '__typename') continue;
        // a field of an interface resolves on each concrete type
        for (const owner of isAbstractType(type) ? schema.getPossibleTypes(type) : [type]) {
          const field = owner.getFields()[name];
          const sharing = field ? (fields.get(`${owner.name}.${name}`) ?? 'caller') : 'caller';
          if (sharing === 'caller') caller = true;
          else if (sharing !== 'message') sharing.forEach((entity) => entities.add(entity));
          const target = field && getNamedType(field.type);
          if (selection.selectionSet && target && (isObjectType(target) || isAbstractType(target))) visit(target, selection.selectionSet, spread);
        }
      } else {
        const fragment = selection.kind === Kind.FRAGMENT_SPREAD ? fragments.get(selection.name.value) : selection;
        if (!fragment || (selection.kind === Kind.FRAGMENT_SPREAD && spread.has(selection.name.value))) continue;
        const condition = fragment.typeCondition ? schema.getType(fragment.typeCondition.name.value) : type;
        if (!condition || !(isObjectType(condition) || isAbstractType(condition))) {
          caller = true;
          continue;
        }
        visit(condition, fragment.selectionSet, selection.kind === Kind.FRAGMENT_SPREAD ? new Set([...spread, selection.name.value]) : spread);
      }
    }
  };
  visit(root, operation.selectionSet, new Set());
  if (caller) return CALLER;
  return entities.size ? { kind: 'scope', entities: [...entities].sort((a, b) => a.name.localeCompare(b.name)) } : MESSAGE;
}

const tables = new WeakMap<GraphQLSchema, Map<string, FieldSharing>>();

/** How each field of the schema's object types depends on the caller, by `Type.field`; fields it cannot tell are left out (caller). */
function fieldTable(schema: GraphQLSchema): Map<string, FieldSharing> {
  let table = tables.get(schema);
  if (table) return table;
  table = new Map();
  const storage = getMetadataStorage();
  const subscription = schema.getSubscriptionType();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const name of Object.keys(type.getFields())) {
      if (type === subscription) {
        const resolver = storage.subscriptions.filter((s) => s.schemaName === name);
        if (resolver.length === 1 && pure(resolver[0])) table.set(`${type.name}.${name}`, 'message');
        continue;
      }
      const sharing = fieldSharing(storage, type, name);
      if (sharing) table.set(`${type.name}.${name}`, sharing);
    }
  }
  tables.set(schema, table);
  return table;
}

type Storage = ReturnType<typeof getMetadataStorage>;
/** what type-graphql knows of a resolver or field: its parameters, and what runs around it */
type Resolved = { params?: readonly { kind: string }[]; roles?: readonly unknown[]; middlewares?: readonly unknown[] };

/** Nothing but the parent object and the arguments reach it: no context (so no caller), no authorization or middleware. */
const pure = (meta: Resolved) => !meta.roles?.length && !meta.middlewares?.length && (meta.params ?? []).every((p) => p.kind === 'root' || p.kind === 'args' || p.kind === 'arg');

function fieldSharing(storage: Storage, type: GraphQLObjectType, name: string): FieldSharing | undefined {
  const classes = storage.objectTypes.filter((o) => o.name === type.name);
  if (classes.length !== 1) return undefined;
  const target = classes[0].target;
  // the class's own fields, then its superclasses' (type-graphql merges them the same way)
  const lineage: Function[] = [];
  for (let c: Function | null = target; c && c !== Function.prototype; c = Object.getPrototypeOf(c) as Function | null) lineage.push(c);
  const resolver = storage.fieldResolvers.find((r) => r.schemaName === name && lineage.includes(r.getObjectType?.() as Function));
  if (resolver) {
    if (resolver.roles?.length || resolver.middlewares?.length) return undefined;
    return RELATIONS[type.name]?.[name] ?? (pure(resolver) ? 'message' : undefined);
  }
  for (const c of lineage) {
    const field = storage.objectTypes.find((o) => o.target === c)?.fields?.find((f) => f.schemaName === name);
    if (field) return pure(field) ? 'message' : undefined;
  }
  return undefined;
}
