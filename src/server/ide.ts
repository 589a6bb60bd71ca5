import express, { type Router } from 'express';
import { getDistDirectory, renderAltair } from 'altair-static';

const IDE_BASE = '/graphql/ide/';

/**
 * A GraphQL IDE (Altair) served from the installed package's files: no CDN. A browser opening
 * /graphql gets it; API clients (no text/html in Accept, or a query) reach Apollo as usual.
 */
export function graphqlIde(): Router {
  const router = express.Router();
  router.use(IDE_BASE, express.static(getDistDirectory(), { index: false, maxAge: '1h' }));
  router.get('/graphql', (req, res, next) => {
    const wantsHtml = req.accepts(['application/json', 'application/graphql-response+json', 'text/html']) === 'text/html';
    if (!wantsHtml || req.query.query !== undefined) return next();
    const wsUrl = `${req.protocol === 'https' ? 'wss' : 'ws'}://${req.get('host')}/graphql`;
    res
      .type('html')
      .send(renderAltair({ baseURL: IDE_BASE, endpointURL: '/graphql', subscriptionsEndpoint: wsUrl, disableAccount: true }));
  });
  return router;
}
