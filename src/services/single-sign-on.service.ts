import { LockMode, type EntityManager } from '@mikro-orm/core';
import { hashSecret } from '../auth/opaque-token.js';
import { OidcClient, type OidcIdentity } from '../auth/oidc.js';
import type { Config } from '../config/config.js';
import { OidcLogin, User } from '../entities/index.js';
import { badInput, forbidden, unauthenticated } from '../errors/domain-error.js';
import type { AuthService, AuthTokens } from './auth.service.js';
import { signingIn, type ServiceContext } from '../request/context.js';
import { snapshot, type Audit, type UnitOfWork } from './unit-of-work.js';
import { iEquals } from '../request/where.js';
import { joinAutoAddEnvs } from './user.service.js';

export interface SingleSignOnStart {
  authorizationUrl: string;
  state: string;
}

type SignedInIdentity = OidcIdentity & { email: string; name: string };

const LOGIN_TTL_MS = 10 * 60 * 1000;

/**
 * Single sign-on with OpenID Connect (authorization code with PKCE). A login's secrets wait in
 * oidc_logins between the redirect and the callback, so any replica can finish what another started.
 */
export class SingleSignOnService {
  private readonly oidc?: OidcClient;
  /** lower-cased */
  private readonly adminEmails: Set<string>;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly auth: AuthService,
    config: Config,
  ) {
    // loadConfig guarantees the client id and redirect URI whenever the issuer is set
    this.oidc = config.OIDC_ISSUER_URL
      ? new OidcClient({
          issuerUrl: config.OIDC_ISSUER_URL,
          clientId: config.OIDC_CLIENT_ID!,
          clientSecret: config.OIDC_CLIENT_SECRET,
          redirectUri: config.OIDC_REDIRECT_URI!,
        })
      : undefined;
    this.adminEmails = new Set(config.OIDC_ADMIN_EMAILS.split(/\s+/).filter(Boolean).map((e) => e.toLowerCase()));
  }

  async start(ctx: ServiceContext): Promise<SingleSignOnStart> {
    // the provider is asked outside the transaction: the embedded database's only connection is not held during network calls
    const request = await this.client().authorizationRequest();
    return this.uow.mutation(signingIn(ctx), 'startSingleSignOn', async (tx, audit) => {
      // opportunistic cleanup of logins abandoned at the provider
      await tx.em.nativeDelete(OidcLogin, { expiresAt: { $lte: new Date() } });
      const login = Object.assign(new OidcLogin(), {
        stateHash: hashSecret(request.state),
        codeVerifier: request.codeVerifier,
        nonce: request.nonce,
        redirectUri: request.redirectUri,
        expiresAt: new Date(Date.now() + LOGIN_TTL_MS),
      });
      tx.em.persist(login);
      audit({ targetType: 'OidcLogin', targetId: login.id, after: snapshot(login) });
      return { authorizationUrl: request.url, state: request.state };
    });
  }

  async finish(ctx: ServiceContext, code: string, state: string): Promise<AuthTokens> {
    const oidc = this.client();
    if (!code.trim()) throw badInput('code', 'code must not be empty');
    if (!state.trim()) throw badInput('state', 'state must not be empty');
    const login = await this.consume(ctx, state);
    return this.signIn(ctx, 'finishSingleSignOn', await oidc.identify(code, { ...login, state }));
  }

  /**
   * Kubportal's Google login: an access token the client obtained from the provider itself, checked at the
   * provider's userinfo endpoint; then as a finished single sign-on.
   */
  async signInWithAccessToken(ctx: ServiceContext, accessToken: string): Promise<AuthTokens> {
    const oidc = this.client();
    if (!accessToken.trim()) throw badInput('accessToken', 'accessToken must not be empty');
    return this.signIn(ctx, 'signInWithAccessToken', await oidc.identifyAccessToken(accessToken.trim()));
  }

  /** The user this identity is (found by it, else by email, else created), signed in. */
  private signIn(ctx: ServiceContext, operation: string, provided: OidcIdentity): Promise<AuthTokens> {
    const identity = requireProfile(provided);
    return this.uow.mutation(signingIn(ctx), operation, async (tx, audit) => {
      const existing = await findUser(tx.em, identity);
      const before = existing ? snapshot(existing) : null;
      const user = existing ? link(existing, identity) : await this.createUser(tx.em, audit, identity);
      if (!user.isActive) throw unauthenticated('User is inactive');
      // the caller's own context: the rest of the request (the payload's fields) acts as the new session
      const tokens = await this.auth.openSession(ctx, tx.em, user);
      audit({ targetType: 'User', targetId: user.id, before, after: snapshot(user) });
      return tokens;
    });
  }

  private client(): OidcClient {
    if (!this.oidc) throw forbidden('Single sign-on is not configured');
    return this.oidc;
  }

  /**
   * Deletes the login in a transaction of its own before anything else happens, so a state serves
   * one attempt only, even when that attempt then fails (an authorization code is single-use anyway).
   */
  private async consume(ctx: ServiceContext, state: string): Promise<OidcLogin> {
    const login = await this.uow.mutation(signingIn(ctx), 'finishSingleSignOn', async (tx) => {
      // the lock makes concurrent callbacks with the same state take turns: only the first finds the row
      const row = await tx.em.findOne(OidcLogin, { stateHash: hashSecret(state) }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (row) tx.em.remove(row);
      return row;
    });
    if (!login || login.expiresAt.getTime() <= Date.now()) throw unauthenticated('Invalid or expired login state');
    return login;
  }

  /** As Platz: admin status comes from OIDC_ADMIN_EMAILS at creation only; new users join every env that auto-adds them. */
  private async createUser(em: EntityManager, audit: Audit, identity: SignedInIdentity): Promise<User> {
    const user = Object.assign(new User(), {
      email: identity.email,
      username: await uniqueUsername(em, identity.email),
      displayName: identity.name,
      isAdmin: this.adminEmails.has(identity.email.toLowerCase()),
      oidcIssuer: identity.issuer,
      oidcSubject: identity.subject,
    });
    em.persist(user);
    await joinAutoAddEnvs(em, audit, user);
    return user;
  }
}

function requireProfile(identity: OidcIdentity): SignedInIdentity {
  const { email, name } = identity;
  if (!email) throw unauthenticated('The single sign-on provider did not share an email address');
  if (!name) throw unauthenticated('The single sign-on provider did not share a name');
  // the email links accounts and grants admin rights: an address the provider has not verified could be anyone's
  if (identity.emailVerified === false) throw unauthenticated('The single sign-on provider has not verified this email address');
  return { ...identity, email, name };
}

/** The user this identity signed in as before, else the one with its email (case-insensitive). */
async function findUser(em: EntityManager, identity: SignedInIdentity): Promise<User | null> {
  return (
    (await em.findOne(User, { oidcIssuer: identity.issuer, oidcSubject: identity.subject })) ??
    (await em.findOne(User, { email: iEquals(identity.email) }))
  );
}

/** Links an account found by email to this identity, unless another identity already holds it. */
function link(user: User, identity: SignedInIdentity): User {
  if (user.oidcIssuer === identity.issuer && user.oidcSubject === identity.subject) return user;
  if (user.oidcIssuer || user.oidcSubject) {
    throw unauthenticated('The account with this email is linked to another single sign-on identity');
  }
  user.oidcIssuer = identity.issuer;
  user.oidcSubject = identity.subject;
  return user;
}

/** The email's local part, cleaned to a username, with "-2", "-3"… until it is free. */
async function uniqueUsername(em: EntityManager, email: string): Promise<string> {
  const base =
    email
      .split('@')[0]
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[-._]+|[-._]+$/g, '') || 'user';
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? base : `${base}-${n}`;
    if ((await em.count(User, { username: candidate })) === 0) return candidate;
  }
}
