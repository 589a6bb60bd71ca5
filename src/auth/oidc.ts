import * as client from 'openid-client';
import { unauthenticated, type DomainError } from '../errors/domain-error.js';

export interface OidcSettings {
  issuerUrl: string;
  clientId: string;
  /** absent: a public client, protected by PKCE alone */
  clientSecret?: string;
  redirectUri: string;
}

/** One login's secrets, to keep until the provider sends the browser back. */
export interface AuthorizationRequest {
  url: string;
  state: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
}

/** Who the provider says signed in. */
export interface OidcIdentity {
  issuer: string;
  subject: string;
  email?: string;
  emailVerified?: boolean;
  name?: string;
}

const SCOPES = 'openid profile email';
/** for every request to the provider, discovery included */
const TIMEOUT_SECONDS = 10;

/**
 * The relying-party side of OpenID Connect (authorization code with PKCE). Holds no login state:
 * the caller keeps each login's state, nonce and verifier, so any replica can finish it.
 */
export class OidcClient {
  private discovered?: Promise<client.Configuration>;

  constructor(private readonly settings: OidcSettings) {}

  async authorizationRequest(): Promise<AuthorizationRequest> {
    const config = await this.configuration();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const codeVerifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUri,
      scope: SCOPES,
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, state, nonce, codeVerifier, redirectUri: this.settings.redirectUri };
  }

  /** Exchanges the code (checking state, PKCE and nonce) and reads the claims, from userinfo when the ID token lacks them. */
  async identify(code: string, login: Omit<AuthorizationRequest, 'url'>): Promise<OidcIdentity> {
    const config = await this.configuration();
    try {
      const { issuer } = config.serverMetadata();
      // the frontend forwards only code and state; Berth trusts a single issuer, so the RFC 9207
      // issuer parameter (a defence against mixing up several providers) is its own
      const callback = new URL(login.redirectUri);
      callback.search = new URLSearchParams({ code, state: login.state, iss: issuer }).toString();
      const tokens = await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: login.codeVerifier,
        expectedState: login.state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
      });
      const idToken = tokens.claims()!;
      const claims: Record<string, unknown> =
        stringClaim(idToken.email) && stringClaim(idToken.name)
          ? idToken
          : { ...(await client.fetchUserInfo(config, tokens.access_token, idToken.sub)), ...withoutEmpty(idToken) };
      return identityOf(issuer, idToken.sub, claims);
    } catch (err) {
      throw providerError(err);
    }
  }

  /**
   * Who an access token the client obtained itself belongs to (Kubportal's Google login): the provider's userinfo
   * endpoint answers for it, or refuses it. Userinfo does not say which client the token was issued to.
   */
  async identifyAccessToken(accessToken: string): Promise<OidcIdentity> {
    const config = await this.configuration();
    try {
      const claims = await client.fetchUserInfo(config, accessToken, client.skipSubjectCheck);
      return identityOf(config.serverMetadata().issuer, claims.sub, claims);
    } catch (err) {
      throw providerError(err);
    }
  }

  /** Discovered once per process; a failure is not kept, so the next login tries again. */
  private configuration(): Promise<client.Configuration> {
    this.discovered ??= this.discover().catch((err: unknown) => {
      this.discovered = undefined;
      throw providerError(err);
    });
    return this.discovered;
  }

  private discover(): Promise<client.Configuration> {
    const { issuerUrl, clientId, clientSecret } = this.settings;
    const auth = clientSecret ? client.ClientSecretBasic(clientSecret) : client.None();
    // an http:// issuer is an explicit choice of the operator (a provider on localhost or inside the cluster)
    const execute = new URL(issuerUrl).protocol === 'http:' ? [client.allowInsecureRequests] : [];
    return client.discovery(new URL(issuerUrl), clientId, undefined, auth, { execute, timeout: TIMEOUT_SECONDS });
  }
}

const stringClaim = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() ? value.trim() : undefined);

// some providers send booleans as strings
const booleanClaim = (value: unknown): boolean | undefined => (value === true || value === 'true' ? true : value === false || value === 'false' ? false : undefined);

/** The identity the provider's claims describe. */
const identityOf = (issuer: string, subject: string, claims: Record<string, unknown>): OidcIdentity => ({
  issuer,
  subject,
  email: stringClaim(claims.email),
  emailVerified: booleanClaim(claims.email_verified),
  name: stringClaim(claims.name),
});

/** ID token claims win over userinfo, but an empty one must not hide a userinfo value. */
const withoutEmpty = (claims: object) => Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== '' && v != null));

/** A clear reason for the caller; the provider's raw error (response bodies, stacks) never reaches it. */
function providerError(err: unknown): DomainError {
  if (err instanceof client.ResponseBodyError || err instanceof client.AuthorizationResponseError) {
    const code = /^[\w.-]{1,64}$/.test(err.error) ? ` (${err.error})` : '';
    return unauthenticated(`The single sign-on provider refused the login${code}`);
  }
  if (isNetworkError(err) || isNetworkError((err as { cause?: unknown } | null)?.cause)) {
    return unauthenticated('The single sign-on provider could not be reached');
  }
  return unauthenticated("The single sign-on provider's response failed validation");
}

/**
 * fetch rejects with a TypeError when it cannot connect; the timeout aborts the request. Told by
 * name: fetch's errors may come from another realm (as under jest), where instanceof fails.
 */
const isNetworkError = (err: unknown) => ['TypeError', 'TimeoutError', 'AbortError'].includes(String((err as { name?: unknown } | null)?.name));
