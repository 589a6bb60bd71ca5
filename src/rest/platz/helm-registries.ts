import { z } from 'zod';
import type { HelmRegistry } from '../../entities/index.js';
import { HelmRegistryProvider } from '../../entities/enums.js';
import { found, restRoute } from '../routes.js';
import { IdParams, PageQuery, pageOf, platzSchemas, readPage, rowJson, Timestamp, Uuid } from './schemas.js';

const TAG = 'Helm Registries';

const HelmRegistryJson = z.object({
  id: z.guid(),
  created_at: Timestamp,
  domain_name: z.string(),
  repo_name: z.string(),
  kind_id: z.guid(),
  available: z.boolean(),
  fa_icon: z.string().describe('a Font Awesome icon name'),
  provider: z.enum(HelmRegistryProvider),
});
platzSchemas.add(HelmRegistryJson, { id: 'HelmRegistry' });

const registryJson = (registry: HelmRegistry): z.input<typeof HelmRegistryJson> => ({
  ...rowJson(registry),
  domain_name: registry.domainName,
  repo_name: registry.repoName,
  kind_id: registry.kind.id,
  available: registry.available,
  fa_icon: registry.faIcon,
  provider: registry.provider,
});

export const helmRegistryRoutes = [
  restRoute({
    method: 'GET',
    url: '/helm-registries',
    tag: TAG,
    summary: 'The chart registries',
    description: 'Every caller sees every registry. Oldest first.',
    query: PageQuery.extend({ repo_name: z.string().optional().describe('exact'), kind_id: Uuid.optional() }),
    response: pageOf(HelmRegistryJson),
    handle: (ctx, { query }) => readPage(ctx, ctx.services.helmRegistries, { repoName: query.repo_name, kindId: query.kind_id }, query, registryJson),
  }),
  restRoute({
    method: 'GET',
    url: '/helm-registries/:id',
    tag: TAG,
    summary: 'One registry',
    params: IdParams,
    response: HelmRegistryJson,
    handle: async (ctx, { params }) => registryJson(await found(ctx.services.helmRegistries.findById(ctx, params.id), 'HelmRegistry')),
  }),
  restRoute({
    method: 'PUT',
    url: '/helm-registries/:id',
    tag: TAG,
    summary: "Change a registry's icon",
    description: 'Site admins; without fa_icon (or with null) the icon is unchanged.',
    params: IdParams,
    body: z.object({ fa_icon: z.string().nullish().describe('1 to 64 lowercase letters, digits or dashes') }),
    response: HelmRegistryJson,
    handle: async (ctx, { params, body }) => registryJson(await ctx.services.helmRegistries.setIcon(ctx, params.id, body.fa_icon ?? undefined)),
  }),
];
