import { z } from 'zod';
import { envLimits, type EnvLimits } from '../../services/env.service.js';
import { found, restRoute } from '../routes.js';
import { NoBody, ProjectParams, storjSchemas } from './schemas.js';

const TAG = 'Limits';

const DECIMAL = ['KB', 'MB', 'GB', 'TB', 'PB', 'EB'];

/** A size as Storj's admin writes it (memory.Size's Base10String): one decimal in the largest unit reached by two thirds, `1.0 TB`. */
export function humanSize(bytes: number): string {
  if (bytes === 0) return '0 B';
  for (let i = DECIMAL.length; i >= 1; i--) {
    const unit = 1000 ** i;
    if (bytes >= (unit * 2) / 3) return `${(bytes / unit).toFixed(1)} ${DECIMAL[i - 1]}`;
  }
  return `${bytes} B`;
}

const SIZE = /^(-?\d+(?:\.\d+)?)\s*(?:([KMGTPE])(i)?)?B?$/i;

/** Bytes from a size in bytes or with a unit, as Storj's server reads one (`5000000`, `5MB`, `1.5 TiB`). */
function bytesOf(size: string): number {
  const [, amount, unit, binary] = SIZE.exec(size)!;
  const power = unit ? 'KMGTPE'.indexOf(unit.toUpperCase()) + 1 : 0;
  return Math.round(Number(amount) * (binary ? 1024 : 1000) ** power);
}

const limitOf = (pattern: RegExp, form: string, parse: (value: string) => number) => (what: string) =>
  z
    .string()
    .regex(pattern, `must be ${form}`)
    .describe(what)
    .transform(parse)
    .pipe(z.number().min(0, 'must not be negative').max(Number.MAX_SAFE_INTEGER))
    .optional();
const count = limitOf(/^-?\d+$/, 'a whole number', Number);
const size = limitOf(SIZE, 'a size: bytes, or with a unit (5GB, 1.5TiB)', bytesOf);

const LimitQuery = z.object({
  usage: size('bytes stored'),
  bandwidth: size('bytes downloaded a month'),
  rate: count('requests a second'),
  burst: count('requests at once beyond the rate'),
  buckets: count('buckets'),
  segments: count('segments'),
});

const Size = z.object({ amount: z.string().describe('in words: `1.0 TB`'), bytes: z.number().int() });
const ProjectLimits = z.object({
  usage: Size.describe('storage'),
  bandwidth: Size,
  rate: z.object({ rps: z.number().int(), burst: z.number().int().describe("beyond Storj's answer, which leaves it out (storj/storj#6276)") }),
  maxBuckets: z.number().int(),
  maxSegments: z.number().int(),
});
storjSchemas.add(ProjectLimits, { id: 'ProjectLimits' });

const sizeOf = (bytes = 0) => ({ amount: humanSize(bytes), bytes });

/** POST and PUT do the same: Storj's clients use either. */
const setLimits = (method: 'POST' | 'PUT') =>
  restRoute({
    method,
    url: '/projects/:id/limit',
    tag: TAG,
    summary: "Set a project's limits",
    description:
      'Any of the query parameters, in one request (`?usage=5000000&bandwidth=9000000`); those left out stay. Sizes in bytes, or with a unit as Storj reads them (`5GB`, `1.5TiB`). 400 for a negative or malformed value, and nothing is changed. Form bodies, which Storj also reads, are not.',
    params: ProjectParams,
    query: LimitQuery,
    response: NoBody,
    handle: async (ctx, { params, query }) => {
      const limits: EnvLimits = {
        storageLimit: query.usage,
        bandwidthLimit: query.bandwidth,
        rateLimit: query.rate,
        burstLimit: query.burst,
        maxBuckets: query.buckets,
        segmentLimit: query.segments,
      };
      return void (await ctx.services.envs.setLimits(ctx, params.id, limits));
    },
  });

export const limitRoutes = [
  restRoute({
    method: 'GET',
    url: '/projects/:id/limit',
    tag: TAG,
    summary: "A project's limits",
    description: 'A limit that is not set is 0.',
    params: ProjectParams,
    response: ProjectLimits,
    handle: async (ctx, { params }) => {
      const limits = envLimits(await found(ctx.services.envs.findById(ctx, params.id), 'Env'));
      return {
        usage: sizeOf(limits.storageLimit),
        bandwidth: sizeOf(limits.bandwidthLimit),
        rate: { rps: limits.rateLimit ?? 0, burst: limits.burstLimit ?? 0 },
        maxBuckets: limits.maxBuckets ?? 0,
        maxSegments: limits.segmentLimit ?? 0,
      };
    },
  }),
  setLimits('POST'),
  setLimits('PUT'),
];
