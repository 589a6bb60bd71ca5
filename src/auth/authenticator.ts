import type { LazyFork } from '../request/lazy-fork.js';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { Bot, Deployment, User } from '../entities/index.js';
import { isUuid } from '../entities/uuid.js';
import { unauthenticated } from '../errors/domain-error.js';
import type { Credentials, Identity } from '../request/identity.js';
import { GrantsCache } from '../request/grants-cache.js';
import { anonymous, type UserFacts } from '../request/identity.js';
import { parseOpaqueToken, secretMatches } from './opaque-token.js';

/** Platz's claim: {"User": "<uuid>"} or {"Deployment": "<uuid>"} */
type IdentityClaim = { User: string } | { Deployment: string };
type JwtPayload = { identity?: IdentityClaim; sid?: unknown; exp: number };
type Row = Record<string, unknown>;

/** What a credential resolved to, as plain rows: each request maps them into its own unit of work. */
type Verified =
  | { kind: 'user'; user: Row; sessionId?: string; token?: ApiTokenState; cookie?: CookieSessionState }
  | { kind: 'bot'; bot: Row; token: ApiTokenState }
  | { kind: 'deployment'; deployment: Row };
interface ApiTokenState {
  id: string;
  secretHash: string;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
}

/** A session a cookie carries (Porter's, Lighthouse's): the token's secret is checked against it on every request. */
interface CookieSessionState {
  secretHash: string;
  expiresAt: Date;
}

/** last_used_at is written at most this often per token, so reads do not turn into writes */
const LAST_USED_RESOLUTION_MS = 60_000;
const MAX_CACHED = 10_000;

/**
 * Turns credentials into an identity, and mints access tokens. Any replica can verify any token.
 *
 * What a credential resolves to (user row, session state, token hash) is kept for `cacheTtlMs`,
 * so a request costs no identity query. Within one process, logout and revocation take effect at
 * once (forgetSession); on other replicas within the TTL. The grants of each identity are kept as long (`grants`).
 */
export class Authenticator {
  private readonly key: Uint8Array;
  private readonly cache = new Map<string, { until: number; verified: Verified }>();
  /** access tokens whose signature has been checked, with their claims */
  private readonly verifiedTokens = new Map<string, JwtPayload>();
  /** what each identity is granted, trusted as long as a credential */
  readonly grants: GrantsCache;

  constructor(
    jwtSecret: string,
    readonly accessTokenTtlSeconds: number,
    private readonly cacheTtlMs: number,
  ) {
    this.key = new TextEncoder().encode(jwtSecret);
    this.grants = new GrantsCache(cacheTtlMs);
  }

  async issueAccessToken(claim: IdentityClaim, sessionId?: string): Promise<{ token: string; expiresAt: Date }> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + this.accessTokenTtlSeconds;
    const jwt = new SignJWT({ identity: claim, ...(sessionId ? { sid: sessionId } : {}) })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(exp);
    return { token: await jwt.sign(this.key), expiresAt: new Date(exp * 1000) };
  }

  /** Anonymous when no credential is given; UNAUTHENTICATED for a credential that is bad in any way. */
  async identify(unit: LazyFork, credentials: Credentials): Promise<Identity> {
    if (credentials.platzToken) return this.identifyApiToken(unit, credentials.platzToken);
    if (credentials.session) return this.identifySession(unit, credentials.session);
    if (credentials.authorization) {
      const match = /^Bearer\s+(\S+)$/i.exec(credentials.authorization.trim());
      if (!match) throw unauthenticated('Authorization header must be "Bearer <token>"');
      return this.identifyJwt(unit, match[1]);
    }
    return anonymous;
  }

  private async verifyJwt(token: string): Promise<JwtPayload> {
    try {
      const { payload } = await jwtVerify<JwtPayload>(token, this.key, { algorithms: ['HS256'], clockTolerance: 5, requiredClaims: ['exp', 'nbf'] });
      if (this.cacheTtlMs > 0) remember(this.verifiedTokens, token, payload as JwtPayload);
      return payload as JwtPayload;
    } catch (err) {
      throw unauthenticated(err instanceof joseErrors.JWTExpired ? 'Access token expired' : 'Invalid access token');
    }
  }

  /** Ends the cached state of a session here at once (logout, refresh-token reuse). */
  forgetSession(sessionId: string): void {
    this.cache.delete(`session:${sessionId}`);
    this.cache.delete(`cookie:${sessionId}`);
  }

  /** A revoked API token stops working here at once. */
  forgetToken(tokenId: string): void {
    this.cache.delete(`token:${tokenId}`);
  }

  /**
   * Every cached credential of a user or bot whose row changed (deactivated, admin rights, deleted)
   * is read again on its next use. A scan: such changes are rare and the cache is bounded.
   */
  forgetIdentity(kind: 'user' | 'bot', id: string): void {
    for (const [key, { verified }] of this.cache) {
      const row = verified.kind === 'user' ? verified.user : verified.kind === 'bot' ? verified.bot : undefined;
      if (verified.kind === kind && row?.id === id) this.cache.delete(key);
    }
  }

  private async identifyJwt(unit: LazyFork, token: string): Promise<Identity> {
    // a token string already verified is the same token: skip the signature check (its expiry still applies)
    const seen = this.verifiedTokens.get(token);
    const payload = seen && seen.exp * 1000 > Date.now() ? seen : await this.verifyJwt(token);
    const claim = payload.identity;
    if (claim && 'User' in claim && isUuid(claim.User)) {
      const userId = claim.User;
      const sid = isUuid(payload.sid) ? payload.sid : undefined;
      const verified = await this.cached(sid ? `session:${sid}` : `user:${userId}`, async () => {
        const [row] = await unit.reader
          .getConnection()
          .execute<Row[]>(
            'select u.*, s.revoked_at as berth_session_revoked_at, s.user_id as berth_session_user_id ' +
              'from users u left join user_sessions s on s.id = ? where u.id = ?',
            [sid ?? null, userId],
          );
        if (!row) throw unauthenticated('User not found');
        const { berth_session_revoked_at: revokedAt, berth_session_user_id: sessionUserId, ...user } = row;
        if (sid && (revokedAt || sessionUserId !== userId)) throw unauthenticated('Session has ended');
        return { kind: 'user', user, sessionId: sid };
      });
      return this.toIdentity(unit, verified);
    }
    if (claim && 'Deployment' in claim && isUuid(claim.Deployment)) {
      const deploymentId = claim.Deployment;
      const verified = await this.cached(`deployment:${deploymentId}`, async () => {
        const [deployment] = await unit.reader.getConnection().execute<Row[]>('select * from deployments where id = ?', [deploymentId]);
        if (!deployment) throw unauthenticated('Deployment not found');
        return { kind: 'deployment', deployment };
      });
      return this.toIdentity(unit, verified);
    }
    throw unauthenticated('Invalid access token');
  }

  private async identifyApiToken(unit: LazyFork, raw: string): Promise<Identity> {
    const parsed = parseOpaqueToken(raw);
    if (!parsed) throw unauthenticated('API token authentication error: Illegal token');
    const illegal = () => unauthenticated('API token authentication error: Illegal token');
    const verified = await this.cached(`token:${parsed.id}`, async () => {
      const tokenColumns = 't.id as berth_token_id, t.secret_hash as berth_token_hash, t.expires_at as berth_token_expires_at, t.last_used_at as berth_token_last_used_at';
      const conn = unit.reader.getConnection();
      const [userRow] = await conn.execute<Row[]>(`select ${tokenColumns}, u.* from user_tokens t join users u on u.id = t.user_id where t.id = ?`, [parsed.id]);
      const [row, kind] = userRow
        ? [userRow, 'user' as const]
        : [(await conn.execute<Row[]>(`select ${tokenColumns}, b.* from bot_tokens t join bots b on b.id = t.bot_id where t.id = ?`, [parsed.id]))[0], 'bot' as const];
      if (!row) throw illegal();
      const { berth_token_id: id, berth_token_hash: secretHash, berth_token_expires_at: expiresAt, berth_token_last_used_at: lastUsedAt, ...identity } = row;
      const token = { id: String(id), secretHash: String(secretHash), expiresAt: toDate(expiresAt), lastUsedAt: toDate(lastUsedAt) };
      return kind === 'user' ? { kind, user: identity, token } : { kind, bot: identity, token };
    });
    if (verified.kind === 'deployment' || !verified.token) throw illegal();
    const { token } = verified;
    if (!secretMatches(parsed.secret, token.secretHash)) throw illegal();
    if (token.expiresAt && token.expiresAt.getTime() <= Date.now()) throw unauthenticated('API token expired');
    await this.touch(unit, verified.kind, token);
    return this.toIdentity(unit, verified);
  }

  /**
   * A session token from a cookie: the session's own token (`<id>.<secret>`, the one a login answers as its refresh
   * token), valid until the session expires or is revoked (logout).
   */
  private async identifySession(unit: LazyFork, raw: string): Promise<Identity> {
    const ended = () => unauthenticated('Session has ended');
    const parsed = parseOpaqueToken(raw);
    if (!parsed) throw ended();
    const verified = await this.cached(`cookie:${parsed.id}`, async () => {
      const [row] = await unit.reader
        .getConnection()
        .execute<Row[]>(
          'select s.refresh_secret_hash as berth_session_hash, s.expires_at as berth_session_expires_at, u.* ' +
            'from user_sessions s join users u on u.id = s.user_id where s.id = ? and s.revoked_at is null',
          [parsed.id],
        );
      if (!row) throw ended();
      const { berth_session_hash: secretHash, berth_session_expires_at: expiresAt, ...user } = row;
      return { kind: 'user', user, sessionId: parsed.id, cookie: { secretHash: String(secretHash), expiresAt: toDate(expiresAt)! } };
    });
    if (verified.kind !== 'user' || !verified.cookie || !secretMatches(parsed.secret, verified.cookie.secretHash)) throw ended();
    if (verified.cookie.expiresAt.getTime() <= Date.now()) throw unauthenticated('Session expired');
    return this.toIdentity(unit, verified);
  }

  /** A verified credential as an identity whose entities belong to this request's unit of work. */
  private toIdentity(unit: LazyFork, verified: Verified): Identity {
    switch (verified.kind) {
      case 'user': {
        if (!verified.user.is_active) throw unauthenticated('User is inactive');
        // mapped into the unit of work only when something reads it: most requests never do
        let user: User | undefined;
        const row = verified.user;
        return {
          kind: 'user',
          get user() {
            return (user ??= unit.em.map(User, row as never));
          },
          facts: factsOf(row),
          sessionId: verified.sessionId,
          tokenId: verified.token?.id,
        };
      }
      case 'bot':
        return { kind: 'bot', bot: unit.em.map(Bot, verified.bot as never), tokenId: verified.token.id };
      case 'deployment':
        return { kind: 'deployment', deployment: unit.em.map(Deployment, verified.deployment as never) };
    }
  }

  private async cached(key: string, resolve: () => Promise<Verified>): Promise<Verified> {
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.verified;
    const verified = await resolve();
    if (this.cacheTtlMs > 0) remember(this.cache, key, { until: now + this.cacheTtlMs, verified });
    return verified;
  }

  private async touch(unit: LazyFork, kind: 'user' | 'bot', token: ApiTokenState): Promise<void> {
    const now = new Date();
    if (token.lastUsedAt && now.getTime() - token.lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
    token.lastUsedAt = now;
    await unit.reader.getConnection().execute(`update ${kind === 'user' ? 'user_tokens' : 'bot_tokens'} set last_used_at = ? where id = ?`, [now, token.id]);
  }
}

/** Bounded insert: a Map keeps insertion order, so past the bound the oldest entry goes. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  if (map.size >= MAX_CACHED) map.delete(map.keys().next().value!);
  map.set(key, value);
}

/** Read from the row as the credential cached it: the same for every request until the cache entry goes. */
const factsMemo = new WeakMap<Row, UserFacts>();
function factsOf(row: Row): UserFacts {
  let facts = factsMemo.get(row);
  if (!facts) {
    facts = { id: String(row.id), isAdmin: row.is_admin === true, authLevel: Number(row.auth_level ?? 0), serviceAccountId: (row.service_account_id as string | null) ?? null };
    factsMemo.set(row, facts);
  }
  return facts;
}

const toDate = (value: unknown): Date | null => (value === null || value === undefined ? null : new Date(value as string | Date));
