export { KubeApiDouble, startKubeApiDouble, type KubeApiDoubleOptions, type ObjectRef, type RequestRecord, type RequestResource, type RequestVerb } from './double.js';
export { type HelmController, type HelmControllerOptions, type HelmRevision } from './flux.js';
export { kubeconfigFor, type KubeconfigContext, type KubeconfigOptions } from './kubeconfig.js';
export { BUILT_IN_RESOURCES, type ResourceType } from './resources.js';
export type { Status } from './status.js';
export type { KubeObject, StoredObject } from './store.js';
