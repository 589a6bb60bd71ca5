import { z } from 'zod';
import type { KubeconfigEntry } from '../../k8s/kubeconfig.js';
import { schemaRegistry } from '../api.js';
import { PorterError } from './errors.js';

/** The schemas Porter's document names. */
export const porterSchemas = schemaRegistry(PorterError);

/** Porter's forms cap their strings at 255 (`max=255`). */
const MAX = 255;

/**
 * A string Porter's form marks `required`: missing, null (Go reads both as "") or empty is refused as `required`; each
 * refusal is worded by its rule's tag (src/rest/porter/errors.ts), and the first rule a value breaks is the last
 * checked, as Porter's validator stops there. A value of another type keeps zod's words: Porter could not decode it.
 */
export const requiredString = () => z.string({ error: (issue) => (issue.input == null ? 'required' : undefined) }).min(1, { error: 'required', abort: true });

/** `max=255` */
export const shortString = () => requiredString().max(MAX, { error: 'max', abort: true });

/** `required,max=255,email` */
export const Email = shortString().check(z.email({ error: 'email' }));

/** A user's number in the path (Berth's numeric alias of its uuid): anything else could not be read. */
export const UserIdParams = z.object({ id: z.coerce.number().int().min(1).max(2 ** 31 - 1).describe("the user's id, a number") });

export const ClusterConfig = z.object({
  name: z.string().describe("the cluster's name in the kubeconfig"),
  server: z.string().describe("the cluster's API server"),
  context: z.string().describe('the context on that cluster'),
  user: z.string().describe("the context's user in the kubeconfig"),
});
porterSchemas.add(ClusterConfig, { id: 'ClusterConfig' });

/** A context of a kubeconfig as Porter lists it; its credentials are never part of it. */
export const clusterJson = (entry: KubeconfigEntry): z.input<typeof ClusterConfig> => ({ name: entry.name, server: entry.server, context: entry.context, user: entry.user });

export const Clusters = z.object({ clusters: z.array(ClusterConfig) });
porterSchemas.add(Clusters, { id: 'Clusters' });

/** Who a login or a sign-up signed in: how a client learns its id (Porter answered nothing). */
export const SignedIn = z.object({ id: z.number().int(), email: z.string() });
porterSchemas.add(SignedIn, { id: 'SignedIn' });
