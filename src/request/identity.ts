import type { Bot, Deployment, User } from '../entities/index.js';

/** Who is calling. Resolved once per request or WebSocket connection. */
export type Identity =
  | { kind: 'anonymous' }
  | UserIdentity
  | { kind: 'bot'; bot: Bot; tokenId: string }
  | { kind: 'deployment'; deployment: Deployment }
  | SystemIdentity;

/**
 * A calling user. `user` is the row as an entity of the request's unit of work, mapped on first use (writes);
 * `facts`, when the authenticator set them, answer what reads and policy checks ask without that mapping.
 */
export interface UserIdentity {
  kind: 'user';
  user: User;
  facts?: UserFacts;
  sessionId?: string;
  tokenId?: string;
}

/** What the policy reads of a calling user. */
export interface UserFacts {
  id: string;
  isAdmin: boolean;
  authLevel: number;
  serviceAccountId: string | null;
}

export const userFacts = (identity: UserIdentity): UserFacts =>
  identity.facts ?? { id: identity.user.id, isAdmin: identity.user.isAdmin, authLevel: identity.user.authLevel, serviceAccountId: identity.user.serviceAccount?.id ?? null };

/** Berth itself, writing without a request: `k8s-watch` (the cluster informers), `task-worker`. Holds every right. */
export interface SystemIdentity {
  kind: 'system';
  name: string;
}

export const anonymous: Identity = { kind: 'anonymous' };

/** Credentials as they arrive, from HTTP headers or graphql-ws connection_init params. */
export interface Credentials {
  /** "Bearer <jwt>" */
  authorization?: string;
  /** a user or bot API token; takes precedence over authorization, as in Platz */
  platzToken?: string;
  /** a session's token from a cookie (Porter's and Lighthouse's APIs log in to a session kept in the database) */
  session?: string;
  /** where the credential was found (a connection_init key), named when it is refused */
  source?: string;
}

/** Credentials from HTTP headers (a WebSocket's upgrade request's too). */
export function credentialsFromHeaders(headers: Record<string, string | string[] | undefined>): Credentials {
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  return { authorization: first(headers.authorization), platzToken: first(headers['x-platz-token']) };
}

/** A cookie's value from a Cookie header, or undefined. */
export function cookieOf(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return decodeURIComponent(part.slice(at + 1).trim());
  }
  return undefined;
}

/** The session an API's cookie (`name`) carries, and nothing else: such an API takes no other credential. */
export const sessionCookie =
  (name: string) =>
  (headers: Record<string, string | string[] | undefined>): Credentials => {
    const session = cookieOf(typeof headers.cookie === 'string' ? headers.cookie : undefined, name);
    return session ? { session } : {};
  };

export type KnownIdentity = Exclude<Identity, { kind: 'anonymous' }>;
