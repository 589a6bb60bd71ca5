import { z } from 'zod';
import { restRoute } from '../routes.js';
import { Empty, lighthouseSchemas } from './schemas.js';

const TAG = 'Users';

/** A user's level on each beacon, by the beacon's address: 0 access, 1 modify, 2 owner; below 0 removes it. */
const BeaconLevels = z.record(z.string(), z.number().int().max(2)).describe('beacon address (or alias) → level: 0 access, 1 modify, 2 owner, -1 remove');

const UserJson = z.object({
  Email: z.string(),
  AuthLevel: z.number().int().describe('a user sees and modifies itself and users of a strictly lower level'),
  Permissions: z.object({ Beacons: z.record(z.string(), z.number().int()).describe('beacon address → level, for the beacons the caller sees') }),
});
lighthouseSchemas.add(UserJson, { id: 'User' });

const EmailParams = z.object({ Email: z.string().describe("the user's email (or username)") });

export const userRoutes = [
  restRoute({
    method: 'GET',
    url: '/users/list',
    tag: TAG,
    summary: 'The emails of the users the caller may see',
    description: 'Itself and users of a lower auth level (site admins and env Admins see every user). Oldest first.',
    response: z.array(z.string()),
    handle: async (ctx) => (await ctx.services.users.all(ctx, {})).map((user) => user.email),
  }),
  restRoute({
    method: 'GET',
    url: '/users/:Email',
    tag: TAG,
    summary: "A user's auth level and beacon levels",
    description: 'A user the caller may not see is not found, as a missing one.',
    params: EmailParams,
    response: UserJson,
    handle: async (ctx, { params }) => {
      const user = await ctx.services.users.findByLogin(ctx, params.Email);
      return { Email: user.email, AuthLevel: user.authLevel, Permissions: { Beacons: await ctx.services.beacons.levels(ctx, user) } };
    },
  }),
  restRoute({
    method: 'PUT',
    url: '/users/:Email',
    tag: TAG,
    summary: "Change a user's auth level, password or beacon levels",
    description:
      "Every field is optional; all or nothing. On oneself and users of a lower auth level. AuthLevel: up to the caller's own (403 above it, 400 below 0), never one's own. Password: at least 8 characters; the user's other sessions end. Beacons: the caller needs modify (1) on each beacon, else 403 for the whole request.",
    params: EmailParams,
    body: z.object({ AuthLevel: z.number().int().optional(), Password: z.string().optional(), Beacons: BeaconLevels.optional() }),
    response: Empty,
    handle: async (ctx, { params, body }) => {
      await ctx.services.users.updateAccess(ctx, params.Email, { authLevel: body.AuthLevel, password: body.Password, beacons: body.Beacons });
      return undefined;
    },
  }),
  restRoute({
    method: 'POST',
    url: '/users/create',
    tag: TAG,
    summary: 'Create a user of auth level 0',
    description: 'Callers of auth level 1 or more (403 below). The email must be an address, the password at least 8 characters; a duplicate is a 400.',
    body: z.object({ Email: z.string(), Password: z.string() }),
    response: Empty,
    handle: async (ctx, { body }) => {
      await ctx.services.users.createByEmail(ctx, body.Email, body.Password);
      return undefined;
    },
  }),
];
