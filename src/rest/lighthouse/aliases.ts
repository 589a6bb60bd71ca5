import { z } from 'zod';
import { restRoute } from '../routes.js';
import { BareString, Empty } from './schemas.js';

export const aliasRoutes = [
  restRoute({
    method: 'PUT',
    url: '/aliases/:Name',
    tag: 'Aliases',
    summary: "Set a beacon's alias",
    description:
      "The path and the body (a bare JSON string) are the alias and the beacon's address, in either order: Lighthouse's document has `PUT /aliases/{Alias}` with the address in the body, its server `PUT /aliases/{Address}` with the alias in the body. Needs modify (1) on the beacon; 404 when neither names a beacon the caller sees.",
    params: z.object({ Name: z.string().describe("the alias, or the beacon's address (URL-encode a `/` in it)") }),
    body: BareString("the beacon's address, or the alias"),
    response: Empty,
    handle: async (ctx, { params, body }) => {
      await ctx.services.beacons.setAlias(ctx, params.Name, body);
      return undefined;
    },
  }),
];
