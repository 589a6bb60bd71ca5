import { Env, User } from '../../src/entities/index.js';
import { build, persist, unique } from './fixtures.js';
import type { MutationCase } from './matrix-mutations.js';
import { AUTHENTICATED, type Who, type World } from './matrix-world.js';
import type { TestServer } from './server.js';

/**
 * The REST rows of the authorization matrix (test/authorization-matrix-rest.test.ts): one or more per route, keyed
 * `METHOD /path` as the OpenAPI document writes it (`PUT /api/v2/envs/{id}`). A served route without a row fails the
 * test. Three kinds of row:
 *
 * - `read`: a list route (`GET /api/v2/envs`) or a by-id route (`GET /api/v2/envs/{id}`) showing rows of a GraphQL
 *   type of the matrix world (`'Env'`): the list shows exactly the ids GraphQL's list shows that caller; by id, a row
 *   in scope is 200 and one out of scope 404. `refused` names callers a route refuses outright, with its status.
 * - `twin`: a write (or a call with side effects) that is the REST form of a GraphQL matrix case (its `field` and
 *   `variant` in test/support/matrix-mutations.ts): the same callers are allowed; an allowed call answers 2xx and is
 *   audited, a denied one answers 401 (no valid caller), 403 or 404 (or the twin's `deniedWith`) and writes nothing.
 *   `prepare` makes fresh targets for one call and returns the path (ids filled in) and the body.
 * - `allowed`: as `twin`, for a route with no GraphQL twin, naming its callers itself (`audited: false` for a read).
 * - `elsewhere`: a route that establishes the caller or needs none; the test file that covers it.
 */
export type RestMatrixRow = { route: string; variant?: string } & (
  | { read: string; refused?: Partial<Record<Who, number>> }
  | { twin: { field: string; variant?: string }; prepare: Prepare }
  | { allowed: readonly Who[]; audited?: false; prepare: Prepare }
  | { elsewhere: string }
);

type Prepare = (who: Who) => Promise<{ path: string; body?: unknown }>;

export function restMatrixRows(server: TestServer, world: World): RestMatrixRow[] {
  const { a, b } = world;
  const freshUser = async () => {
    const name = `fresh-${unique()}`;
    return (await persist(server, build(User, { username: name, email: `${name}@example.com`, displayName: name })))[0];
  };
  const freshEnv = async () => (await persist(server, build(Env, { name: `fresh-${unique()}` })))[0];

  return [
    { route: 'GET /status', elsewhere: 'test/rest-auth.test.ts (no credential)' },
    { route: 'GET /api/v2/auth/google', elsewhere: 'test/rest-auth.test.ts (starts a login)' },
    { route: 'POST /api/v2/auth/google/callback', elsewhere: 'test/rest-auth.test.ts (finishes a login)' },
    { route: 'GET /api/v2/auth/me', allowed: AUTHENTICATED, audited: false, prepare: async () => ({ path: '/api/v2/auth/me' }) },

    // envs
    { route: 'GET /api/v2/envs', read: 'Env' },
    { route: 'GET /api/v2/envs/{id}', read: 'Env' },
    { route: 'POST /api/v2/envs', twin: { field: 'createEnv' }, prepare: async () => ({ path: '/api/v2/envs', body: { name: `env-${unique()}` } }) },
    ...([['env A', a], ['env B', b]] as const).map(([variant, slice]): RestMatrixRow => ({
      route: 'PUT /api/v2/envs/{id}',
      variant,
      twin: { field: 'updateEnv', variant },
      prepare: async () => ({ path: `/api/v2/envs/${slice.env.id}`, body: { name: `env-${unique()}` } }),
    })),
    { route: 'DELETE /api/v2/envs/{id}', twin: { field: 'deleteEnv' }, prepare: async () => ({ path: `/api/v2/envs/${(await freshEnv()).id}` }) },

    // users
    { route: 'GET /api/v2/users', read: 'User' },
    { route: 'GET /api/v2/users/{id}', read: 'User' },
    // Platz's flags are GraphQL's updateUser of another user (a site admin's), not of one's own profile
    { route: 'PUT /api/v2/users/{id}', twin: { field: 'updateUser', variant: 'another user' }, prepare: async () => ({ path: `/api/v2/users/${(await freshUser()).id}`, body: { is_active: false } }) },
  ];
}

/** The GraphQL case a `twin` row mirrors; a row naming no case fails. */
export function twinOf(cases: MutationCase[], twin: { field: string; variant?: string }): MutationCase {
  const found = cases.find((c) => c.field === twin.field && c.variant === twin.variant);
  if (!found) throw new Error(`no GraphQL matrix case ${twin.field}${twin.variant ? ` (${twin.variant})` : ''}`);
  return found;
}
