import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { loadConfig, type Config } from '../../src/config/config.js';
import { startBerth, type Berth, type BerthOptions } from '../../src/server/app.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { NO_BACKGROUND_WORK } from './background-work.js';

export const ADMIN_PASSWORD = 'admin-password-for-tests';

export interface GraphQLResponse<T> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; [k: string]: unknown } }[];
}

export interface TestServer {
  berth: Berth;
  db: TestDatabase;
  /** the ORM's entity manager (fork it before use) */
  em: SqlEntityManager;
  /** runs SQL directly against the test database */
  sql<T = Record<string, unknown>>(query: string, params?: unknown[]): Promise<T[]>;
  /** POSTs a document (typed from codegen, or a string) to /graphql */
  gql<R, V>(document: TypedDocumentNode<R, V> | string, variables?: V, headers?: Record<string, string>): Promise<GraphQLResponse<R>>;
  /** logs in as the bootstrap admin; returns the Authorization header value */
  adminAuth(): Promise<Record<string, string>>;
  stop(): Promise<void>;
}


/** The configuration of a test server: a free port, no logs, a known admin; `env` adds or overrides variables. */
export function testConfig(env: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    BERTH_ADMIN_EMAIL: 'admin@example.com',
    BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
    ...NO_BACKGROUND_WORK,
    ...env,
  });
}

/** POSTs a document (typed from codegen, or a string) to a GraphQL URL: any Berth, not only a test server's. */
export async function postGraphQL<R, V = unknown>(
  url: string,
  document: TypedDocumentNode<R, V> | string,
  variables?: V,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<R>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: typeof document === 'string' ? document : print(document), variables }),
  });
  return { status: res.status, ...((await res.json()) as object) };
}

/** A real Berth on a free port over a fresh database, as npm start would run it. */
export async function startTestServer(env: Record<string, string> = {}, options: BerthOptions = {}): Promise<TestServer> {
  const db = await createTestDatabase();
  const config = testConfig(env);
  const berth = await startBerth(config, { database: db.target, print: () => {}, ...options }).catch(async (err: unknown) => {
    await db.drop();
    throw err;
  });
  const em = berth.orm.em as SqlEntityManager;

  const gql: TestServer['gql'] = (document, variables, headers) => postGraphQL(berth.url, document, variables, headers);

  let adminHeaders: Record<string, string> | undefined;
  return {
    berth,
    db,
    em,
    sql: (query, params = []) => em.getConnection().execute(query, params),
    gql,
    async adminAuth() {
      if (!adminHeaders) {
        const res = await gql<{ login: { accessToken: string } }, object>(
          `mutation { login(usernameOrEmail: "admin", password: "${ADMIN_PASSWORD}") { accessToken } }`,
        );
        if (!res.data) throw new Error(`admin login failed: ${JSON.stringify(res.errors)}`);
        adminHeaders = { authorization: `Bearer ${res.data.login.accessToken}` };
      }
      return adminHeaders;
    },
    async stop() {
      await berth.stop();
      await db.drop();
    },
  };
}
