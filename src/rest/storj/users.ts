import { z } from 'zod';
import type { User } from '../../entities/index.js';
import type { RequestContext } from '../../services/index.js';
import { found, restRoute } from '../routes.js';
import { NoBody, storjSchemas } from './schemas.js';

const TAG = 'Users';

const EmailParams = z.object({ email: z.string().describe("the user's email, case-insensitive") });

const NewUser = z.object({
  id: z.guid(),
  email: z.string(),
  fullName: z.string(),
  shortName: z.string(),
  passwordHash: z.literal('').describe('always empty: Berth never shows a password hash'),
});
storjSchemas.add(NewUser, { id: 'NewUser' });

const ProjectSummary = z.object({ id: z.guid(), name: z.string(), description: z.string(), ownerId: z.guid() });
storjSchemas.add(ProjectSummary, { id: 'ProjectSummary' });

const UserWithProjects = z.object({
  user: z.object({
    id: z.guid(),
    fullName: z.string(),
    email: z.string(),
    projectLimit: z.number().int().describe('how many projects the user may own; 0 when none is set'),
  }),
  projects: z.array(ProjectSummary).describe('the envs the user owns, oldest first'),
});
storjSchemas.add(UserWithProjects, { id: 'UserWithProjects' });

const userByEmail = (ctx: RequestContext, email: string): Promise<User> => found(ctx.services.users.findByEmail(ctx, email), 'User');

/** What Storj leaves unchanged: an empty string, a zero. */
const given = <T>(value: T | undefined): T | undefined => (value === '' || value === 0 ? undefined : value);

export const userRoutes = [
  restRoute({
    method: 'POST',
    url: '/users',
    tag: TAG,
    summary: 'Add a user',
    description:
      "A Berth user: `fullName` is its display name, `shortName` its first name; its username is made from the email. Berth's rules apply: a valid email not taken (409, case-insensitive), a password of at least 8 characters. Other fields Storj takes (partnerId, userAgent…) are ignored.",
    body: z.object({
      email: z.string(),
      fullName: z.string().trim().min(1, 'must not be empty'),
      password: z.string(),
      shortName: z.string().optional(),
    }),
    response: NewUser,
    handle: async (ctx, { body }) => {
      const user = await ctx.services.users.createFromEmail(ctx, { email: body.email, displayName: body.fullName, firstName: body.shortName, password: body.password });
      return { id: user.id, email: user.email, fullName: user.displayName, shortName: user.firstName ?? '', passwordHash: '' as const };
    },
  }),
  restRoute({
    method: 'GET',
    url: '/users/:email',
    tag: TAG,
    summary: 'A user and the projects it owns',
    params: EmailParams,
    response: UserWithProjects,
    handle: async (ctx, { params }) => {
      const user = await userByEmail(ctx, params.email);
      const envs = await ctx.services.envs.ownedBy(ctx, user.id);
      return {
        user: { id: user.id, fullName: user.displayName, email: user.email, projectLimit: user.projectLimit ?? 0 },
        projects: envs.map((env) => ({ id: env.id, name: env.name, description: env.description ?? '', ownerId: user.id })),
      };
    },
  }),
  restRoute({
    method: 'PUT',
    url: '/users/:email',
    tag: TAG,
    summary: "Change a user's names, email or project limit",
    description: 'Fields left out, empty or zero are left unchanged, as Storj does (so a project limit cannot be set to 0). 409 for an email another user has.',
    params: EmailParams,
    body: z.object({
      fullName: z.string().optional(),
      shortName: z.string().optional(),
      email: z.string().optional(),
      projectLimit: z.number().int().min(0).optional(),
    }),
    response: NoBody,
    handle: async (ctx, { params, body }) => {
      const user = await userByEmail(ctx, params.email);
      const profile = { displayName: given(body.fullName), firstName: given(body.shortName), email: given(body.email) };
      return void (await ctx.services.users.update(ctx, user.id, profile, given(body.projectLimit)));
    },
  }),
  restRoute({
    method: 'DELETE',
    url: '/users/:email',
    tag: TAG,
    summary: 'Delete a user',
    description:
      "Berth deletes the user, its sessions, tokens and roles (its audit records stay); Storj redacts its row instead, to the same effect here: the email is free again. 409 while the user owns a project, and for a site admin.",
    params: EmailParams,
    response: NoBody,
    handle: async (ctx, { params }) => void (await ctx.services.users.delete(ctx, (await userByEmail(ctx, params.email)).id)),
  }),
];
