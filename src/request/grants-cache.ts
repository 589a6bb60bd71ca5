import type { KnownIdentity } from './identity.js';

const MAX_CACHED = 10_000;

/**
 * The grants of each identity (src/policy/grants.ts; generic here only because the policy sits above requests), kept as long as the authenticator trusts a credential (AUTH_CACHE_SECONDS), so a
 * read costs no grants statement. Emptied whenever grants may have changed: at once after a commit in this
 * process, and on other replicas when their event hub reads an event flagged `regrants`.
 */
export class GrantsCache<Grants extends { identity: KnownIdentity } = { identity: KnownIdentity }> {
  private readonly entries = new Map<string, { until: number; grants: Grants }>();
  /** bumped by every clear: grants read while one happened may predate it and are not kept */
  private generation = 0;

  constructor(private readonly ttlMs: number) {}

  async get(key: string, identity: KnownIdentity, load: () => Promise<Grants>): Promise<Grants> {
    const now = Date.now();
    const hit = this.entries.get(key);
    // the grants are shared; the identity is this request's own (its user maps into this request's unit of work)
    if (hit && hit.until > now) return { ...hit.grants, identity };
    const generation = this.generation;
    const grants = await load();
    if (this.ttlMs > 0 && generation === this.generation) {
      this.entries.delete(key);
      if (this.entries.size >= MAX_CACHED) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, { until: now + this.ttlMs, grants });
    }
    return grants;
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }
}
