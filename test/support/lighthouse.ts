import { hashPassword } from '../../src/auth/password.js';
import { DeploymentKind, HelmChart, HelmRegistry, User } from '../../src/entities/index.js';
import { HelmRegistryProvider } from '../../src/entities/enums.js';
import { build, persist, unique } from './fixtures.js';
import { restClient, type RestResponse } from './rest.js';
import type { TestServer } from './server.js';

export const LIGHTHOUSE = '/api/v0.2';

/** A Lighthouse client: a browser's cookie jar of one, the `auth` cookie a login set sent on every later call. */
export interface LighthouseClient {
  call<T = any>(method: string, path: string, body?: unknown): Promise<RestResponse<T>>;
  login(email: string, password: string): Promise<RestResponse>;
  /** the session cookie's value, or undefined */
  session?: string;
}

export function lighthouseClient(server: TestServer, session?: string): LighthouseClient {
  const rest = restClient(server);
  const client: LighthouseClient = {
    session,
    // a body is sent as JSON, a bare string too (Lighthouse's token and alias bodies)
    call: async (method, path, body) => {
      const res = await rest(method, `${LIGHTHOUSE}${path}`, {
        headers: client.session ? { cookie: `auth=${client.session}` } : {},
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const cookie = /^auth=([^;]*)/.exec(res.headers.get('set-cookie') ?? '');
      if (cookie) client.session = decodeURIComponent(cookie[1]) || undefined;
      return res;
    },
    login: (email, password) => client.call('POST', '/login', { Email: email, Password: password }),
  };
  return client;
}

/** A user with a password, logged in through the API: its row and its client. */
export async function lighthouseUser(server: TestServer, authLevel = 0, password = 'pass-word-1'): Promise<{ user: User; client: LighthouseClient }> {
  const name = `lh-${unique()}`;
  const [user] = await persist(server, build(User, { username: name, email: `${name}@example.com`, displayName: name, authLevel, passwordHash: await hashPassword(password) }));
  const client = lighthouseClient(server);
  const res = await client.login(user.email, password);
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
  return { user, client };
}

/**
 * A deployment kind with a chart registry of its own and a chart of each tag, as chart discovery writes them: the
 * kind, and each chart's image as an application's Command names it.
 */
export async function lighthouseCharts(server: TestServer, tags: string[]): Promise<{ kind: DeploymentKind; images: string[] }> {
  const kind = build(DeploymentKind, { name: `Web${unique()}` });
  const registry = build(HelmRegistry, { domainName: 'registry.example.com', repoName: `charts/${kind.name.toLowerCase()}`, kind, provider: HelmRegistryProvider.Oci });
  const charts = tags.map((imageTag) => build(HelmChart, { helmRegistry: registry, imageDigest: `sha256:${unique()}`, imageTag }));
  await persist(server, kind, registry, ...charts);
  return { kind, images: tags.map((tag) => `registry.example.com/${registry.repoName}:${tag}`) };
}
