/** A kind of object the double serves, as discovery describes it. */
export interface ResourceType {
  /** '' for the core group (served under /api) */
  group: string;
  version: string;
  /** the path segment: pods, helmreleases */
  plural: string;
  kind: string;
  namespaced: boolean;
  /**
   * Has a status subresource: clients' writes to the object keep its status, writes to /status keep
   * everything else. Test helpers, acting as the controller, write both.
   */
  status: boolean;
  /** DELETE answers with the object as deleted (pods, services…), not a Success Status */
  returnsDeleted?: boolean;
  shortNames?: string[];
}

export const apiVersionOf = (type: ResourceType): string => (type.group ? `${type.group}/${type.version}` : type.version);

const core = (plural: string, kind: string, namespaced: boolean, status: boolean, more: Partial<ResourceType> = {}): ResourceType => ({
  group: '',
  version: 'v1',
  plural,
  kind,
  namespaced,
  status,
  ...more,
});

/** DELETE answers with the namespace, Terminating */
export const NAMESPACES = core('namespaces', 'Namespace', false, true, { returnsDeleted: true, shortNames: ['ns'] });
export const SERVICE_ACCOUNTS = core('serviceaccounts', 'ServiceAccount', true, false, { returnsDeleted: true, shortNames: ['sa'] });
export const DEPLOYMENTS: ResourceType = { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true, status: true, shortNames: ['deploy'] };

// Flux's custom resources, as its CRDs serve them
const flux = (group: string, version: string, plural: string, kind: string, shortName: string): ResourceType => ({
  group: `${group}.toolkit.fluxcd.io`,
  version,
  plural,
  kind,
  namespaced: true,
  status: true,
  shortNames: [shortName],
});
export const HELM_RELEASES = flux('helm', 'v2', 'helmreleases', 'HelmRelease', 'hr');
/** the kinds a HelmRelease's chart comes from */
export const CHART_SOURCES = [flux('source', 'v1', 'ocirepositories', 'OCIRepository', 'ocirepo'), flux('source', 'v1', 'helmrepositories', 'HelmRepository', 'helmrepo')];

/** What a small cluster with Flux's helm-controller serves, and Berth uses. */
export const BUILT_IN_RESOURCES: readonly ResourceType[] = [
  NAMESPACES,
  core('pods', 'Pod', true, true, { returnsDeleted: true, shortNames: ['po'] }),
  core('services', 'Service', true, true, { returnsDeleted: true, shortNames: ['svc'] }),
  core('nodes', 'Node', false, true, { shortNames: ['no'] }),
  SERVICE_ACCOUNTS,
  core('persistentvolumes', 'PersistentVolume', false, true, { returnsDeleted: true, shortNames: ['pv'] }),
  core('configmaps', 'ConfigMap', true, false, { shortNames: ['cm'] }),
  core('secrets', 'Secret', true, false),
  DEPLOYMENTS,
  { group: 'apps', version: 'v1', plural: 'statefulsets', kind: 'StatefulSet', namespaced: true, status: true, shortNames: ['sts'] },
  { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job', namespaced: true, status: true },
  { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', kind: 'Ingress', namespaced: true, status: true, shortNames: ['ing'] },
  HELM_RELEASES,
  ...CHART_SOURCES,
];

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** The resource types the double serves, found by path or by kind; new ones (another CRD) may be added. */
export class ResourceRegistry {
  private readonly types: ResourceType[] = [];

  constructor(types: readonly ResourceType[]) {
    types.forEach((type) => this.register(type));
  }

  register(type: ResourceType): void {
    if (this.byPath(apiVersionOf(type), type.plural)) throw new Error(`${apiVersionOf(type)} ${type.plural} is already registered`);
    this.types.push(type);
  }

  byPath(apiVersion: string, plural: string): ResourceType | undefined {
    return this.types.find((t) => apiVersionOf(t) === apiVersion && t.plural === plural);
  }

  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    return this.types.find((t) => apiVersionOf(t) === apiVersion && t.kind === kind);
  }

  get all(): readonly ResourceType[] {
    return this.types;
  }

  /** GET /api */
  coreVersions(serverAddress: string): object {
    return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
  }

  /** GET /apis */
  groupList(): object {
    return { kind: 'APIGroupList', apiVersion: 'v1', groups: this.groupNames().map((name) => this.group(name)) };
  }

  /** GET /apis/{group}, undefined for a group nobody registered */
  group(name: string): object | undefined {
    const versions = [...new Set(this.types.filter((t) => t.group === name).map((t) => t.version))];
    if (!name || !versions.length) return undefined;
    const forVersion = (version: string) => ({ groupVersion: `${name}/${version}`, version });
    return { kind: 'APIGroup', apiVersion: 'v1', name, versions: versions.map(forVersion), preferredVersion: forVersion(versions[0]) };
  }

  /**
   * GET /api/v1, /apis/{group}/{version}: what KubernetesObjectApi reads to build a path from an
   * object's apiVersion and kind (the plural, and whether to put a namespace in it). It takes the
   * first entry of the kind, so each resource comes before its subresources, as from a real server.
   */
  resourceList(apiVersion: string): object | undefined {
    const types = this.types.filter((t) => apiVersionOf(t) === apiVersion);
    if (!types.length) return undefined;
    const resources = types.flatMap((t) => [
      { name: t.plural, singularName: t.kind.toLowerCase(), namespaced: t.namespaced, kind: t.kind, verbs: VERBS, ...(t.shortNames ? { shortNames: t.shortNames } : {}) },
      ...(t.status ? [{ name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] }] : []),
      ...(t === SERVICE_ACCOUNTS
        ? [{ name: 'serviceaccounts/token', singularName: '', namespaced: true, group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] }]
        : []),
    ]);
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersion, resources };
  }

  private groupNames(): string[] {
    return [...new Set(this.types.map((t) => t.group).filter(Boolean))];
  }
}
