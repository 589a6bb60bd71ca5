import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Metrics } from './metrics.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** `GET /metrics`: Prometheus text; with a token configured (METRICS_TOKEN), only for `Authorization: Bearer <token>`. */
export function metricsEndpoint(metrics: Metrics, token: string | undefined) {
  // digests have one length, so the comparison takes the same time whatever was sent
  const expected = token === undefined ? undefined : digest(`Bearer ${token}`);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    if (expected && !timingSafeEqual(digest(request.headers.authorization ?? ''), expected)) {
      return reply.code(401).header('www-authenticate', 'Bearer').type('text/plain; charset=utf-8').send('A bearer token is required (METRICS_TOKEN)\n');
    }
    const text = await metrics.scrape();
    return reply.type(metrics.contentType).send(text);
  };
}
