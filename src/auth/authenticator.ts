import type { SqlEntityManager } from '@mikro-orm/sql';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { Bot, BotToken, Deployment, User, UserSession, UserToken } from '../entities/index.js';
import { unauthenticated } from '../errors/domain-error.js';
import type { Credentials, Identity } from './identity.js';
import { anonymous } from './identity.js';
import { parseOpaqueToken, secretMatches } from './opaque-token.js';

/** Platz's claim: {"User": "<uuid>"} or {"Deployment": "<uuid>"} */
type IdentityClaim = { User: string } | { Deployment: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** last_used_at is written at most this often per token, so reads do not turn into writes */
const LAST_USED_RESOLUTION_MS = 60_000;

/** Turns credentials into an identity, and mints access tokens. Stateless: any replica can verify. */
export class Authenticator {
  private readonly key: Uint8Array;

  constructor(
    jwtSecret: string,
    readonly accessTokenTtlSeconds: number,
  ) {
    this.key = new TextEncoder().encode(jwtSecret);
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
  async identify(em: SqlEntityManager, credentials: Credentials): Promise<Identity> {
    if (credentials.platzToken) return this.identifyApiToken(em, credentials.platzToken);
    if (credentials.authorization) {
      const match = /^Bearer\s+(\S+)$/i.exec(credentials.authorization.trim());
      if (!match) throw unauthenticated('Authorization header must be "Bearer <token>"');
      return this.identifyJwt(em, match[1]);
    }
    return anonymous;
  }

  private async identifyJwt(em: SqlEntityManager, token: string): Promise<Identity> {
    let payload: { identity?: IdentityClaim; sid?: unknown };
    try {
      ({ payload } = await jwtVerify<{ identity?: IdentityClaim; sid?: unknown }>(token, this.key, { algorithms: ['HS256'], clockTolerance: 5, requiredClaims: ['exp', 'nbf'] }));
    } catch (err) {
      throw unauthenticated(err instanceof joseErrors.JWTExpired ? 'Access token expired' : 'Invalid access token');
    }
    const claim = payload.identity;
    if (claim && 'User' in claim && UUID.test(claim.User)) {
      const sid = typeof payload.sid === 'string' && UUID.test(payload.sid) ? payload.sid : undefined;
      const [user, session] = await Promise.all([
        em.findOne(User, { id: claim.User }),
        sid ? em.findOne(UserSession, { id: sid }, { fields: ['id', 'revokedAt', 'user'] }) : null,
      ]);
      if (sid && (!session || session.revokedAt || session.user.id !== claim.User)) throw unauthenticated('Session has ended');
      return this.activeUser(user, { sessionId: sid });
    }
    if (claim && 'Deployment' in claim && UUID.test(claim.Deployment)) {
      const deployment = await em.findOne(Deployment, { id: claim.Deployment });
      if (!deployment) throw unauthenticated('Deployment not found');
      return { kind: 'deployment', deployment };
    }
    throw unauthenticated('Invalid access token');
  }

  private async identifyApiToken(em: SqlEntityManager, raw: string): Promise<Identity> {
    const parsed = parseOpaqueToken(raw);
    if (!parsed) throw unauthenticated('API token authentication error: Illegal token');
    const userToken = await em.findOne(UserToken, { id: parsed.id });
    const token = userToken ?? (await em.findOne(BotToken, { id: parsed.id }));
    if (!token || !secretMatches(parsed.secret, token.secretHash)) throw unauthenticated('API token authentication error: Illegal token');
    if (token.expiresAt && token.expiresAt.getTime() <= Date.now()) throw unauthenticated('API token expired');
    await this.touch(em, token);
    if (token instanceof UserToken) {
      return this.activeUser(await em.findOne(User, { id: token.user.id }), { tokenId: token.id });
    }
    const bot = await em.findOne(Bot, { id: token.bot.id });
    if (!bot) throw unauthenticated('Bot not found');
    return { kind: 'bot', bot, tokenId: token.id };
  }

  private activeUser(user: User | null, via: { sessionId?: string; tokenId?: string }): Identity {
    if (!user) throw unauthenticated('User not found');
    if (!user.isActive) throw unauthenticated('User is inactive');
    return { kind: 'user', user, ...via };
  }

  private async touch(em: SqlEntityManager, token: UserToken | BotToken): Promise<void> {
    const now = new Date();
    if (token.lastUsedAt && now.getTime() - token.lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
    if (token instanceof UserToken) await em.nativeUpdate(UserToken, { id: token.id }, { lastUsedAt: now });
    else await em.nativeUpdate(BotToken, { id: token.id }, { lastUsedAt: now });
  }
}
