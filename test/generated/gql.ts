/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "mutation Login($usernameOrEmail: String!, $password: String!) {\n  login(usernameOrEmail: $usernameOrEmail, password: $password) {\n    accessToken\n    refreshToken\n    expiresAt\n    user {\n      id\n      username\n      isAdmin\n    }\n  }\n}\n\nmutation RefreshToken($refreshToken: String!) {\n  refreshToken(refreshToken: $refreshToken) {\n    accessToken\n    refreshToken\n  }\n}\n\nmutation Logout {\n  logout\n}\n\nquery Me {\n  me {\n    __typename\n    ... on User {\n      username\n    }\n  }\n}\n\nquery ServerInfo {\n  serverInfo {\n    version\n  }\n}": typeof types.LoginDocument,
    "query DeploymentsWithRelations($first: Int) {\n  deployments(first: $first) {\n    edges {\n      node {\n        id\n        name\n        cluster {\n          name\n          env {\n            name\n          }\n        }\n        env {\n          id\n        }\n        kind {\n          name\n        }\n        helmChart {\n          imageTag\n        }\n        latestTask {\n          id\n          status\n        }\n      }\n    }\n  }\n}": typeof types.DeploymentsWithRelationsDocument,
};
const documents: Documents = {
    "mutation Login($usernameOrEmail: String!, $password: String!) {\n  login(usernameOrEmail: $usernameOrEmail, password: $password) {\n    accessToken\n    refreshToken\n    expiresAt\n    user {\n      id\n      username\n      isAdmin\n    }\n  }\n}\n\nmutation RefreshToken($refreshToken: String!) {\n  refreshToken(refreshToken: $refreshToken) {\n    accessToken\n    refreshToken\n  }\n}\n\nmutation Logout {\n  logout\n}\n\nquery Me {\n  me {\n    __typename\n    ... on User {\n      username\n    }\n  }\n}\n\nquery ServerInfo {\n  serverInfo {\n    version\n  }\n}": types.LoginDocument,
    "query DeploymentsWithRelations($first: Int) {\n  deployments(first: $first) {\n    edges {\n      node {\n        id\n        name\n        cluster {\n          name\n          env {\n            name\n          }\n        }\n        env {\n          id\n        }\n        kind {\n          name\n        }\n        helmChart {\n          imageTag\n        }\n        latestTask {\n          id\n          status\n        }\n      }\n    }\n  }\n}": types.DeploymentsWithRelationsDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation Login($usernameOrEmail: String!, $password: String!) {\n  login(usernameOrEmail: $usernameOrEmail, password: $password) {\n    accessToken\n    refreshToken\n    expiresAt\n    user {\n      id\n      username\n      isAdmin\n    }\n  }\n}\n\nmutation RefreshToken($refreshToken: String!) {\n  refreshToken(refreshToken: $refreshToken) {\n    accessToken\n    refreshToken\n  }\n}\n\nmutation Logout {\n  logout\n}\n\nquery Me {\n  me {\n    __typename\n    ... on User {\n      username\n    }\n  }\n}\n\nquery ServerInfo {\n  serverInfo {\n    version\n  }\n}"): (typeof documents)["mutation Login($usernameOrEmail: String!, $password: String!) {\n  login(usernameOrEmail: $usernameOrEmail, password: $password) {\n    accessToken\n    refreshToken\n    expiresAt\n    user {\n      id\n      username\n      isAdmin\n    }\n  }\n}\n\nmutation RefreshToken($refreshToken: String!) {\n  refreshToken(refreshToken: $refreshToken) {\n    accessToken\n    refreshToken\n  }\n}\n\nmutation Logout {\n  logout\n}\n\nquery Me {\n  me {\n    __typename\n    ... on User {\n      username\n    }\n  }\n}\n\nquery ServerInfo {\n  serverInfo {\n    version\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query DeploymentsWithRelations($first: Int) {\n  deployments(first: $first) {\n    edges {\n      node {\n        id\n        name\n        cluster {\n          name\n          env {\n            name\n          }\n        }\n        env {\n          id\n        }\n        kind {\n          name\n        }\n        helmChart {\n          imageTag\n        }\n        latestTask {\n          id\n          status\n        }\n      }\n    }\n  }\n}"): (typeof documents)["query DeploymentsWithRelations($first: Int) {\n  deployments(first: $first) {\n    edges {\n      node {\n        id\n        name\n        cluster {\n          name\n          env {\n            name\n          }\n        }\n        env {\n          id\n        }\n        kind {\n          name\n        }\n        helmChart {\n          imageTag\n        }\n        latestTask {\n          id\n          status\n        }\n      }\n    }\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;