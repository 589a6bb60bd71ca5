import { unique } from './fixtures.js';
import { restClient, type RestResponse } from './rest.js';
import type { TestServer } from './server.js';

/** The admin token of the test server that serves Storj's API. */
export const STORJ_TOKEN = 'storj-admin-token-for-tests-0123';

export type Storj = <T = any>(method: string, path: string, options?: { body?: unknown; query?: Record<string, string | number>; authorization?: string | null }) => Promise<RestResponse<T>>;

/** Calls Storj's admin API of a test server: `path` under /storj/api, with the admin token unless `authorization` says otherwise (null: none). */
export function storjClient(server: TestServer): Storj {
  const rest = restClient(server);
  return (method, path, options = {}) => {
    const authorization = options.authorization === undefined ? STORJ_TOKEN : options.authorization;
    return rest(method, `/storj/api${path}`, { headers: authorization === null ? {} : { authorization }, body: options.body, query: options.query });
  };
}

/** What one call of a route sends. */
export interface StorjCall {
  path: string;
  body?: unknown;
  query?: Record<string, string | number>;
}

/** One row of the authorization matrix: a route as the document writes it, a call to it, and the status the admin token gets. */
export interface StorjMatrixRow {
  route: string;
  /** makes what the call needs (a fresh user, project, key), so each caller's call finds it as the admin's would */
  prepare(): Promise<StorjCall>;
  ok: number;
}

/** Every route of the API, with a call that succeeds for the admin token. */
export function storjMatrixRows(storj: Storj): StorjMatrixRow[] {
  const user = async () => {
    const email = `matrix-${unique()}@example.com`;
    const res = await storj('POST', '/users', { body: { email, fullName: 'Matrix Person', password: 'password-1234' } });
    return { id: res.body.id as string, email };
  };
  const project = async () => {
    const res = await storj('POST', '/projects', { body: { ownerId: (await user()).id, projectName: `matrix-${unique()}` } });
    return res.body.projectId as string;
  };
  const apiKey = async () => {
    const id = await project();
    const name = `key-${unique()}`;
    const res = await storj('POST', `/projects/${id}/apikeys`, { body: { name } });
    return { id, name, key: res.body.apikey as string };
  };
  return [
    { route: 'POST /storj/api/users', ok: 200, prepare: async () => ({ path: '/users', body: { email: `new-${unique()}@example.com`, fullName: 'New Person', password: 'password-1234' } }) },
    { route: 'GET /storj/api/users/{email}', ok: 200, prepare: async () => ({ path: `/users/${(await user()).email}` }) },
    { route: 'PUT /storj/api/users/{email}', ok: 200, prepare: async () => ({ path: `/users/${(await user()).email}`, body: { fullName: 'Renamed' } }) },
    { route: 'DELETE /storj/api/users/{email}', ok: 200, prepare: async () => ({ path: `/users/${(await user()).email}` }) },
    { route: 'POST /storj/api/projects', ok: 200, prepare: async () => ({ path: '/projects', body: { ownerId: (await user()).id, projectName: `p-${unique()}` } }) },
    { route: 'GET /storj/api/projects/{id}', ok: 200, prepare: async () => ({ path: `/projects/${await project()}` }) },
    { route: 'PUT /storj/api/projects/{id}', ok: 200, prepare: async () => ({ path: `/projects/${await project()}`, body: { projectName: `p-${unique()}` } }) },
    { route: 'DELETE /storj/api/projects/{id}', ok: 200, prepare: async () => ({ path: `/projects/${await project()}` }) },
    { route: 'GET /storj/api/projects/{id}/usage', ok: 200, prepare: async () => ({ path: `/projects/${await project()}/usage` }) },
    { route: 'GET /storj/api/projects/{id}/limit', ok: 200, prepare: async () => ({ path: `/projects/${await project()}/limit` }) },
    { route: 'POST /storj/api/projects/{id}/limit', ok: 200, prepare: async () => ({ path: `/projects/${await project()}/limit`, query: { buckets: 5 } }) },
    { route: 'PUT /storj/api/projects/{id}/limit', ok: 200, prepare: async () => ({ path: `/projects/${await project()}/limit`, query: { rate: 10 } }) },
    { route: 'GET /storj/api/projects/{id}/apikeys', ok: 200, prepare: async () => ({ path: `/projects/${(await apiKey()).id}/apikeys` }) },
    { route: 'POST /storj/api/projects/{id}/apikeys', ok: 200, prepare: async () => ({ path: `/projects/${await project()}/apikeys`, body: { name: 'mine' } }) },
    {
      route: 'DELETE /storj/api/projects/{id}/apikeys/{name}',
      ok: 200,
      prepare: async () => {
        const { id, name } = await apiKey();
        return { path: `/projects/${id}/apikeys/${name}` };
      },
    },
    { route: 'DELETE /storj/api/apikeys/{apikey}', ok: 200, prepare: async () => ({ path: `/apikeys/${(await apiKey()).key}` }) },
  ];
}
