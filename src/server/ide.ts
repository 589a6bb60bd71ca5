import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Router } from 'express';
import { getDistDirectory, renderAltair } from 'altair-static';

const IDE_BASE = '/graphql/ide/';

/** The IDE's first screen: how to log in and authenticate, then one operation of each kind to run. */
const FIRST_SCREEN = `# Berth's GraphQL API. To authenticate:
#  1. Put your password in Login below and press the ► button above it. The
#     admin's is BERTH_ADMIN_PASSWORD, or the one Berth printed on first start.
#  2. Copy accessToken from the result.
#  3. Open Set Headers (the first icon on the left) and add the header
#       Authorization: Bearer <accessToken>
#     or pick Bearer Token in the Auth tab and paste it there. Queries and
#     subscriptions both send it. An API token goes in the header x-platz-token.
#  4. Send Me (its ► button) to see who you are, and Events to follow changes.
# The token lasts an hour by default: log in again, or use refreshToken.

mutation Login {
  login(usernameOrEmail: "admin", password: "") {
    accessToken
    refreshToken
    expiresAt
  }
}

query Me {
  me {
    __typename
    ... on User { username isAdmin }
  }
}

# every change to the envs you may see: a SNAPSHOT of each, LIVE, then each change
subscription Events {
  events(types: [ENV]) {
    operation
    type
    id
    node { ... on Env { name } }
  }
}
`;

/** Altair's donation prompt, which no option turns off (its other banners are off by setting). */
const HIDDEN_PROMPTS = 'nz-alert:has([track-id="donate"]) { display: none !important; }';

/**
 * Altair's graphql-ws handler sends only its "connection parameters" in connection_init and drops the request's
 * headers: a token set in Set Headers or the Auth tab reached queries but not subscriptions, which then ran
 * anonymous. Berth serves that one file with the request's credential headers put into the connection parameters
 * (which still win). An Altair whose file no longer has this shape stops here, at start, rather than quietly.
 */
function graphqlWsHandlerSendingCredentials(dist: string): { file: string; source: string } {
  const connectionParams = /connectionParams:(\w+)\.additionalParams/g;
  const handlers = readdirSync(dist)
    .filter((file) => /^chunk-.*\.js$/.test(file))
    .map((file) => ({ file, source: readFileSync(join(dist, file), 'utf8') }))
    .filter(({ source }) => /export\{\w+ as GraphQLWsRequestHandler\}/.test(source));
  if (handlers.length !== 1 || [...handlers[0].source.matchAll(connectionParams)].length !== 1) {
    throw new Error(`altair-static's graphql-ws handler is not where src/server/ide.ts expects it (found ${handlers.length} files): adapt the patch to this version`);
  }
  const { file, source } = handlers[0];
  const credentials = (request: string) =>
    `Object.fromEntries((${request}.headers??[]).filter((h)=>/^(authorization|x-platz-token)$/i.test(h.key)).map((h)=>[h.key.toLowerCase(),h.value]))`;
  return { file, source: source.replace(connectionParams, (_, request: string) => `connectionParams:{...${credentials(request)},...${request}.additionalParams}`) };
}

let patchedHandler: { file: string; source: string } | undefined;

/**
 * A GraphQL IDE (Altair) served from the installed package's files: no CDN. A browser opening
 * /graphql gets it; API clients (no text/html in Accept, or a query) reach Apollo as usual.
 * Subscriptions use graphql-ws at this server's address as the browser reached it (through a proxy
 * that Express trusts, its X-Forwarded-Proto and X-Forwarded-Host: see TRUST_PROXY).
 */
export function graphqlIde(): Router {
  const dist = getDistDirectory();
  const handler = (patchedHandler ??= graphqlWsHandlerSendingCredentials(dist));
  const router = express.Router();
  router.get(`${IDE_BASE}${handler.file}`, (_req, res) => {
    res.type('js').set('cache-control', 'public, max-age=3600').send(handler.source);
  });
  router.use(IDE_BASE, express.static(dist, { index: false, maxAge: '1h' }));
  router.get('/graphql', (req, res, next) => {
    const wantsHtml = req.accepts(['application/json', 'application/graphql-response+json', 'text/html']) === 'text/html';
    if (!wantsHtml || req.query.query !== undefined) return next();
    // the host lands in an inline script: a name or address and a port, nothing that could end the script
    if (!/^[\w.:[\]-]+$/.test(req.host ?? '')) return void res.status(400).type('text').send('Bad Host header');
    const html = renderAltair({
      baseURL: IDE_BASE,
      endpointURL: '/graphql',
      subscriptionsEndpoint: `${req.protocol === 'https' ? 'wss' : 'ws'}://${req.host}/graphql`,
      initialSubscriptionRequestHandlerId: 'graphql-ws',
      initialQuery: FIRST_SCREEN,
      // no Altair Cloud sign-in, AI and plugin banners, update or push notifications
      disableAccount: true,
      persistedSettings: { 'banners.disable': true, 'alert.disableUpdateNotification': true, disablePushNotification: true },
    });
    res.type('html').send(html.replace('</head>', `<style>${HIDDEN_PROMPTS}</style></head>`));
  });
  return router;
}
