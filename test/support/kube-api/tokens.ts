import { randomBytes } from 'node:crypto';
import { invalid } from './status.js';
import { timestamp } from './store.js';

export interface TokenRequestSpec {
  audiences?: string[];
  expirationSeconds?: number;
  boundObjectRef?: object;
}

/** The bearer tokens the double accepts: its own, and those TokenRequest issued, until they expire. */
export class Tokens {
  private readonly issued = new Map<string, Date>();

  constructor(
    /** replaced by the double's rotateToken */
    public admin: string,
    private readonly clock: () => Date,
  ) {}

  accepts(token: string | undefined): boolean {
    const expiry = token && this.issued.get(token);
    return token === this.admin || Boolean(expiry && expiry > this.clock());
  }

  /** The answer to POST …/serviceaccounts/{name}/token, for a service account that exists. */
  issue(namespace: string, name: string, spec: TokenRequestSpec = {}): object {
    const expirationSeconds = spec.expirationSeconds ?? 3600;
    if (expirationSeconds < 600) {
      throw invalid(undefined, '', `TokenRequest.authentication.k8s.io "${name}" is invalid: spec.expirationSeconds: Invalid value: ${expirationSeconds}: may not specify a duration less than 10 minutes`);
    }
    const expiry = new Date(this.clock().getTime() + expirationSeconds * 1000);
    const token = `double-sa.${randomBytes(24).toString('base64url')}`;
    this.issued.set(token, expiry);
    return {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name, namespace, creationTimestamp: null },
      spec: { audiences: spec.audiences ?? ['https://kubernetes.default.svc.cluster.local'], expirationSeconds, boundObjectRef: spec.boundObjectRef ?? null },
      status: { token, expirationTimestamp: timestamp(expiry) },
    };
  }
}
