import { LockMode, type EntityManager } from '@mikro-orm/core';
import type { Authenticator } from '../auth/authenticator.js';
import type { LoginThrottle } from '../auth/login-throttle.js';
import type { Identity, KnownIdentity, SystemIdentity } from '../request/identity.js';
import { newOpaqueToken, parseOpaqueToken, secretMatches, hashSecret } from '../auth/opaque-token.js';
import { dummyPasswordHash, verifyPassword } from '../auth/password.js';
import { User, UserSession } from '../entities/index.js';
import { badInput, unauthenticated } from '../errors/domain-error.js';
import { requireIdentity, signingIn, type ServiceContext } from '../request/context.js';
import { forgetGrants } from '../policy/grants.js';
import { requireSystem } from '../policy/permissions.js';
import type { UnitOfWork } from './unit-of-work.js';

export interface AuthTokens {
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
  user: User;
}

const INVALID_LOGIN = 'Invalid username, email or password';

/** Password login, refresh-token rotation and logout. Sessions live in the database, so any replica serves them. */
export class AuthService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly authenticator: Authenticator,
    private readonly refreshTokenTtlSeconds: number,
    private readonly throttle: LoginThrottle,
  ) {}

  /** Throttled by username and source address (src/auth/login-throttle.ts): a throttled attempt checks no password. */
  async login(ctx: ServiceContext, usernameOrEmail: string, password: string): Promise<AuthTokens> {
    const login = usernameOrEmail.trim();
    if (!login) throw badInput('usernameOrEmail', 'usernameOrEmail must not be empty');
    if (!password) throw badInput('password', 'password must not be empty');
    const user = await this.throttle.attempt(login, ctx.clientAddress ?? 'unknown', async () => {
      const found = await ctx.em.findOne(User, login.includes('@') ? { email: { $ilike: login.replace(/[\\%_]/g, '\\$&') } } : { username: login });
      // verify against a dummy hash when the user is missing, so timing does not reveal who exists
      const ok = await verifyPassword(found?.passwordHash ?? (await dummyPasswordHash), password);
      return found?.passwordHash && ok ? found : undefined;
    });
    if (!user) throw unauthenticated(INVALID_LOGIN);
    if (!user.isActive) throw unauthenticated('User is inactive');
    return this.uow.run(signingIn(ctx), (tx) => this.openSession(ctx, tx.em, user));
  }

  /**
   * Starts a session for a user who has just proven who they are (password or single sign-on),
   * inside the caller's transaction. The rest of the request then acts as that user.
   */
  async openSession(ctx: ServiceContext, em: EntityManager, user: User): Promise<AuthTokens> {
    const refresh = newOpaqueToken();
    const session = em.create(UserSession, {
      id: refresh.id,
      user,
      refreshSecretHash: hashSecret(refresh.secret),
      expiresAt: new Date(Date.now() + this.refreshTokenTtlSeconds * 1000),
      createdAt: new Date(),
    });
    user.lastLoginAt = new Date();
    await em.flush();
    return this.tokens(ctx, user, session.id, refresh.token);
  }

  /**
   * Rotates the refresh token. Presenting an already-rotated token means it leaked: the whole
   * session is revoked.
   */
  async refresh(ctx: ServiceContext, refreshToken: string): Promise<AuthTokens> {
    const parsed = parseOpaqueToken(refreshToken);
    if (!parsed) throw unauthenticated('Invalid refresh token');
    // a reused token's revocation must commit, so the transaction returns the verdict and errors are thrown after it
    const outcome = await this.uow.run(signingIn(ctx), async ({ em }) => {
      const session = await em.findOne(UserSession, { id: parsed.id }, { populate: ['user'], lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!session || session.revokedAt || session.expiresAt.getTime() <= Date.now()) return 'expired' as const;
      if (!secretMatches(parsed.secret, session.refreshSecretHash)) {
        session.revokedAt = new Date();
        await em.flush();
        this.authenticator.forgetSession(session.id);
        return 'reused' as const;
      }
      if (!session.user.isActive) return 'inactive' as const;
      // the session keeps its id (access tokens name it); only the secret rotates
      const next = newOpaqueToken(session.id);
      session.refreshSecretHash = hashSecret(next.secret);
      session.lastRefreshedAt = new Date();
      await em.flush();
      return { user: session.user, sessionId: session.id, token: next.token };
    });
    if (outcome === 'expired') throw unauthenticated('Refresh token expired or revoked');
    if (outcome === 'reused') throw unauthenticated('Refresh token already used; the session has been revoked');
    if (outcome === 'inactive') throw unauthenticated('User is inactive');
    return this.tokens(ctx, outcome.user, outcome.sessionId, outcome.token);
  }

  /** Ends the caller's session (or the one the refresh token names): its access tokens stop working. */
  async logout(ctx: ServiceContext, refreshToken?: string | null): Promise<boolean> {
    const sessionId = refreshToken ? parseOpaqueToken(refreshToken)?.id : sessionOf(requireIdentity(ctx));
    if (!sessionId) throw badInput(refreshToken ? 'refreshToken' : 'authorization', 'No session to end');
    const updated = await this.uow.run(signingIn(ctx), ({ em }) => em.nativeUpdate(UserSession, { id: sessionId, revokedAt: null }, { revokedAt: new Date() }));
    this.authenticator.forgetSession(sessionId);
    return updated > 0;
  }

  /**
   * Kubportal's logout, which answers even a caller that is not signed in: ends the caller's session when it has one
   * (a valid access token from a login), and tells whether it did.
   */
  async logoutIfSignedIn(ctx: ServiceContext): Promise<boolean> {
    return !ctx.authError && sessionOf(ctx.identity) !== undefined && this.logout(ctx);
  }

  /** Who asks: a user, a bot or a deployment (Berth's own writers never ask). */
  me(ctx: ServiceContext): Exclude<KnownIdentity, SystemIdentity> {
    const identity = requireIdentity(ctx);
    if (identity.kind === 'system') throw unauthenticated();
    return identity;
  }

  private async tokens(ctx: ServiceContext, user: User, sessionId: string, refreshToken: string): Promise<AuthTokens> {
    // what the response selects of the user is read with the new session's rights
    ctx.identity = { kind: 'user', user, sessionId };
    ctx.authError = undefined;
    forgetGrants(ctx);
    const access = await this.authenticator.issueAccessToken({ User: user.id }, sessionId);
    return { accessToken: access.token, refreshToken, expiresAt: access.expiresAt, user };
  }

  /**
   * An access token acting as the deployment (Platz's `platz-creds`), for the deployment's own calls to Berth;
   * issued to Berth's credentials worker alone, which writes it into the deployment's namespace.
   */
  deploymentToken(ctx: ServiceContext, deploymentId: string): Promise<{ token: string; expiresAt: Date }> {
    requireSystem(ctx);
    return this.authenticator.issueAccessToken({ Deployment: deploymentId });
  }
}

const sessionOf = (identity: Identity) => (identity.kind === 'user' ? identity.sessionId : undefined);
