import { z } from 'zod';
import { conflict, DomainError, ErrorCode, forbidden } from '../../errors/domain-error.js';
import { KubeconfigError, parseKubeconfig } from '../../k8s/kubeconfig.js';
import { signingIn } from '../../request/context.js';
import { userFacts } from '../../request/identity.js';
import type { RequestContext } from '../../services/index.js';
import { restRoute } from '../routes.js';
import { signedIn } from './auth.js';
import { ClusterConfig, clusterJson, Clusters, Email, porterSchemas, requiredString, shortString, SignedIn, UserIdParams } from './schemas.js';

const TAG = 'Users';

const PorterUser = z.object({
  id: z.number().int(),
  email: z.string(),
  clusters: z.array(ClusterConfig).describe('the contexts of the kubeconfig on the clusters the user allowed, in file order'),
  rawKubeConfig: z.string().describe('the kubeconfig as the user sent it; empty until it sends one'),
});
porterSchemas.add(PorterUser, { id: 'User' });

const VALIDATION = '601 "required validation failed", "max validation failed"';

/**
 * Porter's routes under /users/{id} are each user's own: any id but the caller's (another user's, or no one's) is
 * Forbidden, as a request without a session. Site admins are no exception: a kubeconfig holds credentials.
 */
async function requireOwnId(ctx: RequestContext, id: number): Promise<void> {
  const identity = ctx.services.auth.me(ctx);
  if (identity.kind !== 'user' || (await ctx.services.numericAliases.idOf(ctx, 'users', id)) !== userFacts(identity).id) throw forbidden();
}

/** Porter's words for the one conflict a sign-up meets (the username, made from the email, is numbered when taken). */
function emailTaken(err: unknown): never {
  throw err instanceof DomainError && err.code === ErrorCode.CONFLICT ? conflict('Email already taken') : err;
}

/** A kubeconfig Porter could decode: one that is not YAML, or not a kubeconfig, is a request it could not read (600). */
const RawKubeconfig = requiredString().superRefine((text, check) => {
  try {
    parseKubeconfig(text);
  } catch (err) {
    if (!(err instanceof KubeconfigError)) throw err;
    check.addIssue({ code: 'custom', message: err.message });
  }
});

/** One of the caller's two lists of clusters: those it allowed, or every usable context of its kubeconfig. */
const clustersRoute = (url: string, summary: string, list: 'allowed' | 'contexts') =>
  restRoute({
    method: 'GET',
    url,
    tag: TAG,
    summary,
    description: 'In the order of the kubeconfig; empty until a kubeconfig is sent.',
    params: UserIdParams,
    response: Clusters,
    handle: async (ctx, { params }) => {
      await requireOwnId(ctx, params.id);
      return { clusters: (await ctx.services.users.ownKubeconfig(ctx))[list].map(clusterJson) };
    },
  });

export const userRoutes = [
  restRoute({
    method: 'POST',
    url: '/users',
    tag: TAG,
    summary: 'Sign up: create a user and log it in',
    description:
      "Open to anyone when Berth's sign-up is (SIGNUP_ENABLED), as GraphQL's signUp. The new user is logged in (the `porter` cookie). Its Berth username is made from the email, its display name is the email. Passwords of at least 8 characters, as Berth asks of every password.",
    access: 'public',
    body: z.object({ email: Email, password: shortString().min(8, { error: 'min' }) }),
    status: 201,
    errors: {
      403: 'the plain text `Forbidden`: sign-up is disabled on this server',
      422: `${VALIDATION}, "email validation failed", "min validation failed" (a password under 8 characters), one per field; or "Email already taken"`,
    },
    response: SignedIn,
    handle: async (ctx, { body }, reply) =>
      // a stale cookie does not stand in the way of a new account
      signedIn(ctx, reply, await ctx.services.users.signUpWithEmail(signingIn(ctx), body.email, body.password).catch(emailTaken)),
  }),
  restRoute({
    method: 'GET',
    url: '/users/:id',
    tag: TAG,
    summary: 'The caller, with its kubeconfig and its allowed clusters',
    params: UserIdParams,
    response: PorterUser,
    handle: async (ctx, { params }) => {
      await requireOwnId(ctx, params.id);
      const { user, raw, allowed } = await ctx.services.users.ownKubeconfig(ctx);
      return { id: params.id, email: user.email, clusters: allowed.map(clusterJson), rawKubeConfig: raw ?? '' };
    },
  }),
  clustersRoute('/users/:id/clusters', "The caller's allowed clusters: the contexts of its kubeconfig on them", 'allowed'),
  clustersRoute('/users/:id/clusters/all', "Every usable context of the caller's kubeconfig: one whose cluster and user are both in the file", 'contexts'),
  restRoute({
    method: 'PUT',
    url: '/users/:id',
    tag: TAG,
    summary: "Replace the caller's kubeconfig and the clusters of it it allows",
    description:
      'The kubeconfig is kept encrypted, and read back by the user alone. `allowedClusters` names clusters of it (a cluster\'s `name`): every context on them is allowed; a name the kubeconfig does not have allows nothing.',
    params: UserIdParams,
    body: z.object({
      rawKubeConfig: RawKubeconfig.describe('a kubeconfig, YAML'),
      allowedClusters: z.array(shortString(), { error: (issue) => (issue.input == null ? 'required' : undefined) }).describe('cluster names; may be empty'),
    }),
    status: 204,
    errors: {
      400: `600 "could not process request": also a kubeconfig that is not YAML, or not a kubeconfig (the second entry says where)`,
      422: `${VALIDATION}, one per field`,
    },
    response: z.undefined(),
    handle: async (ctx, { params, body }) => {
      await requireOwnId(ctx, params.id);
      return void (await ctx.services.users.setKubeconfig(ctx, body.rawKubeConfig, body.allowedClusters));
    },
  }),
  restRoute({
    method: 'DELETE',
    url: '/users/:id',
    tag: TAG,
    summary: 'Delete the caller, which proves it with its password',
    description: "Its sessions, API tokens and roles go with it. Porter never checked the password; Berth does. A site admin, or a user owning envs, is not deleted (as GraphQL's deleteUser).",
    params: UserIdParams,
    body: z.object({ password: shortString() }),
    status: 204,
    errors: { 422: `${VALIDATION}; "password (body): is not correct"; or the caller is a site admin or owns envs` },
    response: z.undefined(),
    handle: async (ctx, { params, body }) => {
      await requireOwnId(ctx, params.id);
      return void (await ctx.services.users.deleteSelf(ctx, body.password));
    },
  }),
];
