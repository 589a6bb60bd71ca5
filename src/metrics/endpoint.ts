import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Metrics } from './metrics.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** `GET /metrics`: Prometheus text; with a token configured (METRICS_TOKEN), only for `Authorization: Bearer <token>`. */
export function metricsEndpoint(metrics: Metrics, token: string | undefined) {
  // digests have one length, so the comparison takes the same time whatever was sent
  const expected = token === undefined ? undefined : digest(`Bearer ${token}`);
  return async (req: Request, res: Response): Promise<void> => {
    if (expected && !timingSafeEqual(digest(req.headers.authorization ?? ''), expected)) {
      res.status(401).set('www-authenticate', 'Bearer').type('text/plain').send('A bearer token is required (METRICS_TOKEN)\n');
      return;
    }
    const text = await metrics.scrape();
    res.type(metrics.contentType).send(text);
  };
}
