import type { Bot, Deployment, User } from '../entities/index.js';

/** Who is calling. Resolved once per request or WebSocket connection. */
export type Identity =
  | { kind: 'anonymous' }
  | { kind: 'user'; user: User; sessionId?: string; tokenId?: string }
  | { kind: 'bot'; bot: Bot; tokenId: string }
  | { kind: 'deployment'; deployment: Deployment }
  | SystemIdentity;

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
  /** where the credential was found (a connection_init key), named when it is refused */
  source?: string;
}

export type KnownIdentity = Exclude<Identity, { kind: 'anonymous' }>;
