import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import { Provider } from 'oidc-provider';

/** What the provider says about an account (sub is its id). */
export interface AccountClaims {
  email?: string;
  email_verified?: boolean;
  name?: string;
}

/** A real OpenID Connect provider (oidc-provider) on a free port, with its development login pages. */
export interface TestOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** the accounts one may sign in as, by id; add freely */
  accounts: Map<string, AccountClaims>;
  /** starts answering; until then the issuer's port is reserved but refuses connections */
  listen(): Promise<void>;
  /**
   * What a browser does: follows the authorization URL through the login and consent pages as the
   * account, keeping cookies, up to the redirect to the client. Returns that redirect (code, state).
   */
  signIn(authorizationUrl: string, accountId: string): Promise<URL>;
  stop(): Promise<void>;
}

export async function createOidcProvider(): Promise<TestOidcProvider> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const client = { clientId: 'berth', clientSecret: 'berth-client-secret', redirectUri: 'http://127.0.0.1:5173/sso/callback' };
  const accounts = new Map<string, AccountClaims>();
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig' };

  const provider = withoutDevelopmentWarnings(() => new Provider(issuer, {
    clients: [{ client_id: client.clientId, client_secret: client.clientSecret, redirect_uris: [client.redirectUri] }],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    findAccount: (_ctx, id) => {
      const claims = accounts.get(id);
      return claims && { accountId: id, claims: () => ({ sub: id, ...claims }) };
    },
    jwks: { keys: [signingKey] },
    cookies: { keys: ['test-cookie-signing-key'] },
    // explicit, so the provider does not print a notice for each default
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
  }));
  const http: Server = createServer(provider.callback());

  return {
    issuer,
    ...client,
    accounts,
    listen: () => new Promise((resolve) => http.listen(port, '127.0.0.1', resolve)),
    signIn: (authorizationUrl, accountId) => browse(authorizationUrl, accountId, client.redirectUri),
    stop: () => new Promise((resolve) => (http.listening ? http.close(() => resolve()) : resolve())),
  };
}

async function browse(start: string, accountId: string, redirectUri: string): Promise<URL> {
  const cookies = new Map<string, string>();
  let request: { url: URL; form?: URLSearchParams } = { url: new URL(start) };
  for (let step = 0; step < 12; step++) {
    if (request.url.href.startsWith(redirectUri)) return request.url;
    const res = await fetch(request.url, {
      method: request.form ? 'POST' : 'GET',
      redirect: 'manual',
      body: request.form,
      headers: { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const line of res.headers.getSetCookie()) {
      const [, name, value] = /^([^=]+)=([^;]*)/.exec(line)!;
      if (!value || /expires=Thu, 01 Jan 1970/i.test(line)) cookies.delete(name);
      else cookies.set(name, value);
    }
    const location = res.headers.get('location');
    const body = await res.text();
    if (location) {
      request = { url: new URL(location, request.url) };
      continue;
    }
    // a devInteractions page: the login form (any password) or the consent form
    const action = /<form[^>]*action="([^"]+)"/.exec(body)?.[1];
    const prompt = /name="prompt" value="(\w+)"/.exec(body)?.[1];
    if (!action || !prompt) throw new Error(`unexpected page from the provider (${res.status}): ${body.slice(0, 500)}`);
    const form = new URLSearchParams({ prompt, ...(prompt === 'login' ? { login: accountId, password: 'any' } : {}) });
    request = { url: new URL(action.replace(/&amp;/g, '&'), request.url), form };
  }
  throw new Error('the provider never redirected back to the client');
}

/** oidc-provider warns that its in-memory storage and devInteractions are for development only: here they are the point. */
function withoutDevelopmentWarnings<T>(make: () => T): T {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).includes('quick start development-only')) warn(...args);
  };
  try {
    return make();
  } finally {
    console.warn = warn;
  }
}

/** A port nobody listens on (reserved by listening once, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
