import { readFileSync } from 'node:fs';
import { getNamedType, isInputObjectType, isObjectType, isScalarType, isEnumType, type GraphQLSchema } from 'graphql';
import { buildBerthSchema, printBerthSchema } from '../resolvers/schema.js';

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildBerthSchema();
});

test('schema/schema.graphql is what the code builds (run `npm run schema:emit` after changing the API)', () => {
  expect(readFileSync('schema/schema.graphql', 'utf8')).toBe(printBerthSchema(schema));
});

/** Names that would expose stored secrets, hashes or credentials. */
const FORBIDDEN = /password|hash|secretHash|contents|credential|kubeconfig(?!Context)|privateKey|clientKey|jwtSecret/i;

test('no field or argument exposes passwords, hashes, secret contents or credentials', () => {
  const exposed: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    // a mutation's name says what it does (changePassword), not what it returns
    if (type.name.startsWith('__') || !isObjectType(type) || type === schema.getMutationType()) continue;
    for (const field of Object.values(type.getFields())) {
      if (FORBIDDEN.test(field.name)) exposed.push(`${type.name}.${field.name}`);
    }
  }
  expect(exposed).toEqual([]);
  // the inputs that legitimately take a password, secret contents or a kubeconfig: written, never read back
  const passwordInputs: string[] = [];
  for (const field of Object.values({ ...schema.getQueryType()!.getFields(), ...schema.getMutationType()!.getFields() })) {
    for (const arg of field.args) if (FORBIDDEN.test(arg.name)) passwordInputs.push(`${field.name}(${arg.name})`);
  }
  for (const type of Object.values(schema.getTypeMap())) {
    if (isInputObjectType(type)) for (const f of Object.values(type.getFields())) if (FORBIDDEN.test(f.name)) passwordInputs.push(`${type.name}.${f.name}`);
  }
  expect(passwordInputs.sort()).toEqual([
    'CreateClustersFromKubeconfigInput.kubeconfig', 'CreateSecretInput.contents', 'CreateUserInput.password', 'SignUpInput.password',
    'UpdateSecretInput.contents', 'changePassword(currentPassword)', 'changePassword(newPassword)', 'kubeconfigContexts(kubeconfig)',
    'login(password)',
  ]);
});

test('every aggregate has a by-id field and a Relay connection list', () => {
  const query = schema.getQueryType()!.getFields();
  const aggregates: [string, string, string][] = [
    ['user', 'users', 'User'], ['group', 'groups', 'Group'], ['webApp', 'webApps', 'WebApp'], ['env', 'envs', 'Env'],
    ['envUserPermission', 'envUserPermissions', 'EnvUserPermission'], ['k8sCluster', 'k8sClusters', 'K8sCluster'],
    ['k8sNamespace', 'k8sNamespaces', 'K8sNamespace'], ['k8sServiceAccount', 'k8sServiceAccounts', 'K8sServiceAccount'],
    ['deploymentKind', 'deploymentKinds', 'DeploymentKind'], ['helmRegistry', 'helmRegistries', 'HelmRegistry'],
    ['helmTagFormat', 'helmTagFormats', 'HelmTagFormat'], ['helmChart', 'helmCharts', 'HelmChart'],
    ['deployment', 'deployments', 'Deployment'], ['deploymentPermission', 'deploymentPermissions', 'DeploymentPermission'],
    ['deploymentTask', 'deploymentTasks', 'DeploymentTask'], ['deploymentResourceType', 'deploymentResourceTypes', 'DeploymentResourceType'],
    ['deploymentResource', 'deploymentResources', 'DeploymentResource'], ['k8sResource', 'k8sResources', 'K8sResource'],
    ['secret', 'secrets', 'Secret'], ['userToken', 'userTokens', 'UserToken'], ['bot', 'bots', 'Bot'], ['botToken', 'botTokens', 'BotToken'],
  ];
  for (const [single, plural, typeName] of aggregates) {
    expect(String(query[single]?.type)).toBe(typeName);
    expect(query[single].args.map((a) => `${a.name}: ${a.type}`)).toEqual(['id: ID!']);
    expect(String(query[plural]?.type)).toBe(`${typeName}Connection!`);
    expect(query[plural].args.map((a) => a.name).sort()).toEqual(['after', 'before', 'filter', 'first', 'last']);
    const connection = getNamedType(query[plural].type);
    if (!isObjectType(connection)) throw new Error(`${plural} is not an object`);
    expect(Object.keys(connection.getFields()).sort()).toEqual(['edges', 'pageInfo', 'totalCount']);
  }
});

test('enums carry Platz values exactly', () => {
  const values = (name: string) => {
    const type = schema.getType(name);
    if (!isEnumType(type)) throw new Error(name);
    return type.getValues().map((v) => v.value);
  };
  expect(values('DeploymentStatus')).toEqual(['Unknown', 'Installing', 'Renaming', 'Upgrading', 'Running', 'Error', 'Uninstalling', 'Uninstalled', 'Deleting']);
  expect(values('DeploymentTaskStatus')).toEqual(['Pending', 'Started', 'Failed', 'Canceled', 'Done']);
  expect(isScalarType(schema.getType('JSON'))).toBe(true);
});
