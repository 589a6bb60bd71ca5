import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

// written from the OCI and Helm specifications, not imported from the code under test
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const HELM_CONFIG = 'application/vnd.cncf.helm.config.v1+json';
const HELM_CHART = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
const IMAGE_CONFIG = 'application/vnd.oci.image.config.v1+json';
const IMAGE_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

export interface OciRegistryOptions {
  /**
   * Every /v2/ call without `Authorization: Bearer <token>` is answered 401 with a Bearer challenge whose realm is
   * this registry's /token, which hands out this token to anyone (anonymous pull, as Docker Hub and GHCR do).
   */
  token?: string;
  /** tags per tags/list page; more come behind a `Link: <…>; rel="next"` (default: all in one page) */
  tagsPerPage?: number;
}

export interface ReceivedRequest {
  /** path and query */
  path: string;
  /** the Host header: which origin the caller meant */
  host: string;
  authorization?: string;
}

/** What a push stored: the manifest's digest (what the tag points at) and its one layer's. */
export interface Pushed {
  digest: string;
  layer: string;
}

export interface OciRegistryDouble {
  /** host:port, the registry's domain */
  host: string;
  origin: string;
  /** every request received, in order */
  requests: ReceivedRequest[];
  /** a Helm chart: a manifest with Helm's config and `archive` as its chart layer */
  pushChart(repo: string, tag: string, archive: Uint8Array): Pushed;
  /** an artifact that is not a Helm chart (a container image) */
  pushImage(repo: string, tag: string): Pushed;
  /** the blobs of `repo` are answered with a redirect to the same path on `origin` (undefined: served again) */
  redirectBlobs(repo: string, origin: string | undefined): void;
  /** the blobs of `repo` are answered only once `count` requests for them are waiting (callers racing) */
  holdBlobs(repo: string, count: number): void;
  /** from now on no request is answered (a registry that hangs) */
  stall(): void;
  close(): Promise<void>;
}

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** An OCI distribution API (pull side: tags, manifests, blobs) on a free port, with optional anonymous bearer tokens. */
export async function startOciRegistry(options: OciRegistryOptions = {}): Promise<OciRegistryDouble> {
  const tags = new Map<string, Map<string, string>>();
  const manifests = new Map<string, Buffer>();
  const blobs = new Map<string, Uint8Array>();
  const redirects = new Map<string, string>();
  const holds = new Map<string, { count: number; waiting: (() => void)[] }>();
  const requests: ReceivedRequest[] = [];
  let stalled = false;

  const put = (bytes: Uint8Array) => {
    const digest = sha256(bytes);
    blobs.set(digest, bytes);
    return { digest, size: bytes.length };
  };
  const push = (repo: string, tag: string, configType: string, config: object, layerType: string, layer: Uint8Array): Pushed => {
    const layerDescriptor = { mediaType: layerType, ...put(layer) };
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST,
      config: { mediaType: configType, ...put(Buffer.from(JSON.stringify(config))) },
      layers: [layerDescriptor],
    }));
    const digest = sha256(manifest);
    manifests.set(digest, manifest);
    if (!tags.has(repo)) tags.set(repo, new Map());
    tags.get(repo)!.set(tag, digest);
    return { digest, layer: layerDescriptor.digest };
  };

  const server = http.createServer((req, res) => {
    requests.push({ path: req.url ?? '', host: req.headers.host ?? '', authorization: req.headers.authorization });
    if (stalled) return;
    const url = new URL(req.url ?? '/', 'http://registry');
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

    if (url.pathname === '/token') return json(200, { token: options.token, expires_in: 300 });
    const route = /^\/v2\/(.+)\/(tags\/list|manifests|blobs)(?:\/([^/]+))?$/.exec(url.pathname);
    if (!route) return json(404, { errors: [{ code: 'NOT_FOUND' }] });
    const [, repo, kind, reference] = route;
    if (options.token && req.headers.authorization !== `Bearer ${options.token}`) {
      const challenge = `Bearer realm="${origin}/token",service="oci-double",scope="repository:${repo}:pull"`;
      return json(401, { errors: [{ code: 'UNAUTHORIZED' }] }, { 'www-authenticate': challenge });
    }
    const repoTags = tags.get(repo);
    if (!repoTags) return json(404, { errors: [{ code: 'NAME_UNKNOWN' }] });

    if (kind === 'tags/list') {
      const all = [...repoTags.keys()].sort();
      const last = url.searchParams.get('last');
      const rest = last === null ? all : all.filter((t) => t > last);
      const size = options.tagsPerPage ?? rest.length;
      const page = rest.slice(0, size);
      const link: Record<string, string> = rest.length > size ? { link: `</v2/${repo}/tags/list?n=${size}&last=${page.at(-1)}>; rel="next"` } : {};
      return json(200, { name: repo, tags: page }, link);
    }
    if (kind === 'manifests') {
      const digest = repoTags.get(reference) ?? reference;
      const manifest = manifests.get(digest);
      if (!manifest) return json(404, { errors: [{ code: 'MANIFEST_UNKNOWN' }] });
      return res.writeHead(200, { 'content-type': MANIFEST, 'docker-content-digest': digest }).end(manifest);
    }
    const redirect = redirects.get(repo);
    if (redirect) return res.writeHead(307, { location: `${redirect}${url.pathname}` }).end();
    const blob = blobs.get(reference);
    if (!blob) return json(404, { errors: [{ code: 'BLOB_UNKNOWN' }] });
    const send = () => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(blob);
    const hold = holds.get(repo);
    if (!hold) return send();
    hold.waiting.push(send);
    if (hold.waiting.length >= hold.count) {
      holds.delete(repo);
      hold.waiting.forEach((answer) => answer());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const origin = `http://${host}`;

  return {
    host,
    origin,
    requests,
    pushChart: (repo, tag, archive) => push(repo, tag, HELM_CONFIG, { name: repo, version: tag }, HELM_CHART, archive),
    pushImage: (repo, tag) => push(repo, tag, IMAGE_CONFIG, { architecture: 'amd64', os: 'linux' }, IMAGE_LAYER, Buffer.from(tag)),
    redirectBlobs: (repo, to) => void (to ? redirects.set(repo, to) : redirects.delete(repo)),
    holdBlobs: (repo, count) => void holds.set(repo, { count, waiting: [] }),
    stall: () => void (stalled = true),
    close: async () => {
      // stalled calls included
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
