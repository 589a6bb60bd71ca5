import { createHash } from 'node:crypto';
import { outboundFetch, type OutboundResponse } from '../util/outbound-http.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** the config media type that marks a manifest as a Helm chart (other artifacts share registries with charts) */
export const HELM_CONFIG = 'application/vnd.cncf.helm.config.v1+json';
export const HELM_CHART_LAYER = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';

/** Tag lists come in pages; a registry that keeps sending more is cut off here. */
const MAX_TAG_PAGES = 100;
// the distribution spec's grammars: names that match are safe in a path as they are (no `..`, and some registries
// do not decode an escaped `:` in a digest)
const REPOSITORY = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface Manifest {
  /** what the tag points at: the manifest's digest */
  digest: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface OciRepositoryOptions {
  /** the longest one call may take, its body included */
  timeoutMs: number;
  /** http:// instead of https:// (a registry on a private network, as helm's --plain-http) */
  plainHttp: boolean;
  /** ends every call early (the poller stopping) */
  signal?: AbortSignal;
}

/** The registry answered, but not as the distribution API says: said so a person can act on it. */
export class OciError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OciError';
  }
}

/**
 * One repository of an OCI registry, read anonymously through the distribution API: its tags, a tag's manifest and a
 * blob. A registry that answers 401 with a Bearer challenge gets an anonymous token from the challenge's realm, and
 * the call is made again with it; the token is kept for the next calls and sent to the registry's origin only.
 */
export class OciRepository {
  private readonly base: URL;
  private token: string | undefined;

  constructor(
    readonly domain: string,
    readonly repo: string,
    private readonly options: OciRepositoryOptions,
  ) {
    if (!REPOSITORY.test(repo)) throw new OciError(`${repo} is not a repository name`);
    const base = URL.parse(`${options.plainHttp ? 'http' : 'https'}://${domain}/v2/${repo}/`);
    // a domain with a path, credentials or odd characters in it would make the calls go somewhere else
    if (base?.host !== domain.toLowerCase()) throw new OciError(`${domain} is not a registry host[:port]`);
    this.base = base;
  }

  /** Every tag, following the `Link: <…>; rel="next"` pages. */
  async tags(): Promise<string[]> {
    const tags: string[] = [];
    let next: URL | undefined = new URL('tags/list', this.base);
    for (let page = 0; next; page++) {
      if (page === MAX_TAG_PAGES) throw new OciError(`${describe(next)}: more than ${MAX_TAG_PAGES} pages of tags`);
      const res = await this.get(next, 'application/json');
      // a repository with no tags may say null
      const listed = (json(res) as { tags?: unknown }).tags ?? [];
      if (!Array.isArray(listed) || !listed.every((t) => typeof t === 'string')) throw new OciError(`${describe(next)}: tags is not a list of strings`);
      tags.push(...listed);
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.get('link') ?? '');
      next = link ? (URL.parse(link[1], res.url) ?? undefined) : undefined;
    }
    return tags;
  }

  /** The OCI image manifest a tag points at, and its digest. */
  async manifest(tag: string): Promise<Manifest> {
    if (!TAG.test(tag)) throw new OciError(`${tag.slice(0, 200)} is not a tag`);
    const url = new URL(`manifests/${tag}`, this.base);
    const res = await this.get(url, OCI_MANIFEST);
    const body = json(res) as { config?: unknown; layers?: unknown };
    if (!isDescriptor(body.config) || !Array.isArray(body.layers) || !body.layers.every(isDescriptor)) {
      throw new OciError(`${describe(url)}: not an OCI image manifest`);
    }
    // the digest is that of the bytes served, which the registry also names in Docker-Content-Digest
    const named = res.headers.get('docker-content-digest');
    const digest = named && DIGEST.test(named) ? named : `sha256:${createHash('sha256').update(res.body).digest('hex')}`;
    return { digest, config: body.config, layers: body.layers };
  }

  /** A blob's bytes, checked against the descriptor's sha256 digest. */
  async blob(descriptor: Descriptor): Promise<Uint8Array> {
    const url = new URL(`blobs/${descriptor.digest}`, this.base);
    const { body } = await this.get(url, '*/*');
    const [algorithm, expected] = descriptor.digest.split(':');
    if (algorithm === 'sha256' && createHash('sha256').update(body).digest('hex') !== expected) {
      throw new OciError(`${describe(url)}: the bytes received do not match the digest`);
    }
    return body;
  }

  private async get(url: URL, accept: string): Promise<OutboundResponse> {
    // the token (and any page link a registry sends) stays with the registry
    if (url.origin !== this.base.origin) throw new OciError(`${describe(this.base)} sent a link to another host (${url.host}); not followed`);
    const call = () =>
      outboundFetch(url.toString(), {
        headers: { accept, ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
        timeoutMs: this.options.timeoutMs,
        signal: this.options.signal,
      });
    let res = await call();
    if (res.status === 401) {
      this.token = await this.anonymousToken(res.headers.get('www-authenticate'), url);
      res = await call();
    }
    if (res.status === 401 || res.status === 403) throw new OciError(`${describe(url)} refused anonymous access (${res.status})`);
    if (res.status !== 200) throw new OciError(`${describe(url)} answered ${res.status}`);
    return res;
  }

  /** A token from the realm of a `Bearer realm="…",service="…",scope="…"` challenge, asked for with no credentials. */
  private async anonymousToken(challenge: string | null, url: URL): Promise<string> {
    const [, scheme, rest] = /^(\w+)\s*(.*)$/.exec(challenge ?? '') ?? [];
    if (scheme?.toLowerCase() !== 'bearer') {
      throw new OciError(`${describe(url)} asks for credentials (${scheme ?? 'no challenge'}); only anonymous access is supported`);
    }
    const params = Object.fromEntries([...rest.matchAll(/(\w+)="([^"]*)"/g)].map(([, key, value]) => [key.toLowerCase(), value]));
    const realm = params.realm ? URL.parse(params.realm) : null;
    if (!realm) throw new OciError(`${describe(url)}: the Bearer challenge names no realm URL`);
    for (const key of ['service', 'scope'] as const) if (params[key]) realm.searchParams.set(key, params[key]);
    const res = await outboundFetch(realm.toString(), { headers: { accept: 'application/json' }, timeoutMs: this.options.timeoutMs, signal: this.options.signal });
    if (res.status !== 200) throw new OciError(`the token service ${describe(realm)} answered ${res.status}`);
    const body = json(res) as { token?: unknown; access_token?: unknown };
    const token = body.token ?? body.access_token;
    if (typeof token !== 'string' || !token) throw new OciError(`the token service ${describe(realm)} sent no token`);
    return token;
  }
}

/** a URL for messages: no query, no credentials */
const describe = (url: URL) => `${url.origin}${url.pathname}`;

function json(res: OutboundResponse): unknown {
  try {
    const value: unknown = JSON.parse(res.text());
    if (value && typeof value === 'object') return value;
  } catch {
    // reported below
  }
  throw new OciError(`${describe(new URL(res.url))}: the answer is not a JSON object`);
}

function isDescriptor(value: unknown): value is Descriptor {
  const d = value as Partial<Descriptor> | null;
  return typeof d?.mediaType === 'string' && typeof d.digest === 'string' && DIGEST.test(d.digest) && typeof d.size === 'number';
}
