import { z } from 'zod';
import { restRoute } from '../routes.js';
import { BotJson, botJson } from './bots.js';
import { platzSchemas } from './schemas.js';
import { UserJson, userJson } from './users.js';

const TAG = 'Auth';

/** Who the caller is, externally tagged as Platz writes it. */
const MeResponse = z.union([
  z.object({ User: UserJson }),
  z.object({ Bot: BotJson }),
  z.object({ Deployment: z.object({ id: z.guid(), name: z.string() }) }),
]);
platzSchemas.add(MeResponse, { id: 'MeResponse' });

export const authRoutes = [
  restRoute({
    method: 'GET',
    url: '/auth/me',
    tag: TAG,
    summary: 'The caller: a user, a bot or a deployment',
    response: MeResponse,
    handle: async (ctx) => {
      const identity = ctx.services.auth.me(ctx);
      if (identity.kind === 'user') return { User: userJson(identity.user) };
      if (identity.kind === 'bot') return { Bot: botJson(identity.bot) };
      return { Deployment: { id: identity.deployment.id, name: identity.deployment.name } };
    },
  }),
];
