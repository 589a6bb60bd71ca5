import { z } from 'zod';
import { restRoute } from '../routes.js';
import { IdParams, knownIdOf, kubportalSchemas } from './schemas.js';

export const GroupJson = z.object({ name: z.string() });
kubportalSchemas.add(GroupJson, { id: 'Group' });

export const groupRoutes = [
  restRoute({
    method: 'GET',
    url: '/groups/:id/',
    tag: 'Groups',
    summary: 'Get details about a user group.',
    params: IdParams('user group'),
    errors: { 403: 'The user is not in this group.', 404: 'no group has this ID' },
    response: GroupJson,
    handle: async (ctx, { params }) => {
      const group = await ctx.services.groups.ownGroup(ctx, await knownIdOf(ctx, 'groups', params.id, 'Group'));
      return { name: group.name };
    },
  }),
];
