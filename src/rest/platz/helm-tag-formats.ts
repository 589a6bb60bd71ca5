import { z } from 'zod';
import type { HelmTagFormat } from '../../entities/index.js';
import { found, restRoute } from '../routes.js';
import { IdParams, PageQuery, pageOf, platzSchemas, readPage, rowJson, Timestamp } from './schemas.js';

const TAG = 'Helm Tag Formats';

const HelmTagFormatJson = z.object({ id: z.guid(), created_at: Timestamp, pattern: z.string() });
platzSchemas.add(HelmTagFormatJson, { id: 'HelmTagFormat' });

const formatJson = (format: HelmTagFormat): z.input<typeof HelmTagFormatJson> => ({ ...rowJson(format), pattern: format.pattern });

export const helmTagFormatRoutes = [
  restRoute({
    method: 'GET',
    url: '/helm-tag-formats',
    tag: TAG,
    summary: 'The formats that parse chart tags',
    description: 'Every caller sees every format. Newest first.',
    query: PageQuery.extend({ pattern: z.string().optional().describe('exact') }),
    response: pageOf(HelmTagFormatJson),
    handle: (ctx, { query }) => readPage(ctx, ctx.services.helmTagFormats, { pattern: query.pattern }, query, formatJson),
  }),
  restRoute({
    method: 'GET',
    url: '/helm-tag-formats/:id',
    tag: TAG,
    summary: 'One tag format',
    params: IdParams,
    response: HelmTagFormatJson,
    handle: async (ctx, { params }) => formatJson(await found(ctx.services.helmTagFormats.findById(ctx, params.id), 'HelmTagFormat')),
  }),
  restRoute({
    method: 'POST',
    url: '/helm-tag-formats',
    tag: TAG,
    summary: 'Add a tag format',
    description:
      'Site admins. A regular expression matching a whole tag, with named groups among version, revision, branch and commit (`(?P<name>…)` accepted); 400 saying what is wrong otherwise, 409 for a pattern already there.',
    body: z.object({ pattern: z.string() }),
    status: 201,
    response: HelmTagFormatJson,
    handle: async (ctx, { body }) => formatJson(await ctx.services.helmTagFormats.create(ctx, body.pattern)),
  }),
  restRoute({
    method: 'DELETE',
    url: '/helm-tag-formats/:id',
    tag: TAG,
    summary: 'Delete a tag format',
    description: 'Site admins; charts keep what it parsed (their tag_format_id becomes null).',
    params: IdParams,
    status: 204,
    response: z.undefined(),
    handle: async (ctx, { params }) => void (await ctx.services.helmTagFormats.delete(ctx, params.id)),
  }),
];
