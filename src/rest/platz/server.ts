import { z } from 'zod';
import { restRoute } from '../routes.js';
import { platzSchemas } from './schemas.js';

const ServerInfoJson = z.object({ version: z.string().describe("Berth's version") });
platzSchemas.add(ServerInfoJson, { id: 'ServerInfo' });

export const serverRoutes = [
  restRoute({
    method: 'GET',
    url: '/server',
    tag: 'Server',
    summary: 'About this server',
    description: 'No credential needed, as in Platz.',
    access: 'public',
    response: ServerInfoJson,
    handle: async (ctx) => ctx.services.serverInfo.info(),
  }),
];
