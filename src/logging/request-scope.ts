import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What the logs know about the request being served. A transport opens the scope as a request arrives; whatever
 * logs while serving it (a service, the ORM's error path) carries its id without it being passed down.
 */
export interface RequestScope {
  requestId: string;
  /** `user:<id>`, `bot:<id>`, `deployment:<id>`, `anonymous`, once the credential is checked */
  caller?: string;
  /** GraphQL operation names, for the access log */
  operation?: string;
}

const storage = new AsyncLocalStorage<RequestScope>();

export const runInRequestScope = <T>(scope: RequestScope, fn: () => T): T => storage.run(scope, fn);

export const currentRequestScope = (): RequestScope | undefined => storage.getStore();
