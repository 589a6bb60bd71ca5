import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
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
 * A fix to one of Altair's built files, found by the shape of its minified code: `marker`, a piece of code only that
 * file holds, picks it; `apply` returns it changed, or nothing when the code no longer has the shape it expects. An
 * Altair release whose files differ stops Berth at start (see patchedAltairFiles) rather than quietly serving the bug.
 */
interface AltairFix {
  marker: string;
  apply(source: string): string | undefined;
}

/** The one match of `pattern` in `source`; nothing when it matches none or several times. */
function matchOnce(source: string, pattern: RegExp): RegExpExecArray | undefined {
  const matches = [...source.matchAll(new RegExp(pattern.source, 'g'))];
  return matches.length === 1 ? matches[0] : undefined;
}

/** Replaces the one match of `pattern` in `source`; nothing when it matches none or several times. */
function replaceOnce(source: string, pattern: RegExp, replacement: (...groups: string[]) => string): string | undefined {
  const match = matchOnce(source, pattern);
  return match && source.slice(0, match.index) + replacement(...match) + source.slice(match.index + match[0].length);
}

/**
 * Altair's graphql-ws handler sends only its "connection parameters" in connection_init and drops the request's
 * headers: a token set in Set Headers or the Auth tab reached queries but not subscriptions, which then ran
 * anonymous. Berth serves that file with the request's credential headers put into the connection parameters
 * (which still win).
 */
const subscriptionsSendCredentials: AltairFix = {
  marker: ' as GraphQLWsRequestHandler}',
  apply: (source) => {
    const credentials = (request: string) =>
      `Object.fromEntries((${request}.headers??[]).filter((h)=>/^(authorization|x-platz-token)$/i.test(h.key)).map((h)=>[h.key.toLowerCase(),h.value]))`;
    return replaceOnce(source, /connectionParams:([\w$]+)\.additionalParams/, (_, request) => `connectionParams:{...${credentials(request)},...${request}.additionalParams}`);
  },
};

/**
 * Altair builds the ► (Send …) buttons above each operation from the syntax tree as it stands when the document
 * changes, and not again when the parser, which works in slices of a few milliseconds, completes that tree later: on a
 * busy machine the first screen came without its buttons until the user typed. They are rebuilt when the tree changes.
 */
const sendButtonsFollowTheParse: AltairFix = {
  marker: '.node.getChild("OperationType")',
  apply: (source) => {
    // build = (state, onClick) => decorations, from syntaxTree(state); the lookbehind lets the scan of main.js's 3 MB
    // start at a literal, at every start
    const builder = matchOnce(source, /(?<=([\w$]+)=\(([\w$]+),[\w$]+\))=>\{let [\w$]+=\[\];return ([\w$]+)\(\2\)\.iterate\(\{enter:[\w$]+=>\{if\([\w$]+\.name==="OperationDefinition"/);
    if (!builder) return undefined;
    const [, build, , syntaxTree] = builder;
    const rebuiltOnChange = new RegExp(`update\\(([\\w$]+),([\\w$]+)\\)\\{return \\2\\.docChanged\\?${build.replace(/\$/g, '\\$')}\\(`);
    return replaceOnce(source, rebuiltOnChange, (_, value, tr) => `update(${value},${tr}){return ${tr}.docChanged||${syntaxTree}(${tr}.state)!==${syntaxTree}(${tr}.startState)?${build}(`);
  },
};

/**
 * Altair's files that Berth serves changed, by name, encoded once (main.js is 3 MB): each fix applied to the one file
 * it finds, or an error.
 */
function patchedAltairFiles(dist: string, fixes: readonly AltairFix[]): Map<string, Buffer> {
  // searched as bytes: only the files fixed are decoded
  const scripts = readdirSync(dist)
    .filter((file) => file.endsWith('.js'))
    .map((file) => ({ file, bytes: readFileSync(join(dist, file)) }));
  const patched = new Map<string, string>();
  for (const fix of fixes) {
    const found = scripts.filter(({ bytes }) => bytes.includes(fix.marker));
    const fixed = found.length === 1 ? fix.apply(patched.get(found[0].file) ?? found[0].bytes.toString('utf8')) : undefined;
    if (fixed === undefined) {
      throw new Error(`altair-static's code is not what src/server/ide.ts expects (${JSON.stringify(fix.marker)} found in ${found.length} files, 1 expected, or changed around it): adapt the fix to this version`);
    }
    patched.set(found[0].file, fixed);
  }
  return new Map([...patched].map(([file, source]) => [file, Buffer.from(source)]));
}

let patchedFiles: Map<string, Buffer> | undefined;

/** What GET /graphql may answer with: JSON for API clients, the IDE's page for a browser. */
const GET_ANSWERS = ['application/json', 'application/graphql-response+json', 'text/html'];

/**
 * Which of `types` an Accept header prefers, as content negotiation ranks them: by quality, then by how exactly a
 * range names the type (`text/html` over `text/*` over any type), then by the order of `types`; none when none is
 * acceptable. No header accepts anything: the first type.
 */
export function preferredType(accept: string | undefined, types: readonly string[]): string | undefined {
  if (!accept) return types[0];
  const ranges = accept.split(',').map((part) => {
    const [range, ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    return { range, q: q ? Number(q.slice(2)) : 1 };
  });
  let best: { type: string; q: number; exactness: number } | undefined;
  for (const type of types) {
    const exactnessOf = (range: string) => (range === type ? 2 : range === `${type.split('/')[0]}/*` ? 1 : range === '*/*' ? 0 : -1);
    // the most exact range that names the type decides its quality
    const match = ranges.map((r) => ({ q: r.q, exactness: exactnessOf(r.range) })).filter((r) => r.exactness >= 0).sort((a, b) => b.exactness - a.exactness)[0];
    if (!match || !(match.q > 0)) continue;
    if (!best || match.q > best.q || (match.q === best.q && match.exactness > best.exactness)) best = { type, ...match };
  }
  return best?.type;
}

/**
 * A GraphQL IDE (Altair) served from the installed package's files: no CDN. `assets` serves its files under
 * /graphql/ide/; `page`, run before GET /graphql's handler, answers a browser opening /graphql with the IDE, and lets
 * API clients (no text/html preferred, or a query) through to Apollo. Subscriptions use graphql-ws at this server's
 * address as the browser reached it (through a proxy that is trusted, its X-Forwarded-Proto and X-Forwarded-Host:
 * see TRUST_PROXY).
 */
export function graphqlIde(): { assets: FastifyPluginAsync; page: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined> } {
  const dist = getDistDirectory();
  const patched = (patchedFiles ??= patchedAltairFiles(dist, [subscriptionsSendCredentials, sendButtonsFollowTheParse]));
  const assets: FastifyPluginAsync = async (app) => {
    for (const [file, source] of patched) {
      app.get(`${IDE_BASE}${file}`, (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(source));
    }
    await app.register(fastifyStatic, { root: dist, prefix: IDE_BASE, index: false, maxAge: '1h', decorateReply: false });
  };
  const page = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const wantsHtml = preferredType(request.headers.accept, GET_ANSWERS) === 'text/html';
    if (!wantsHtml || (request.query as Record<string, unknown>).query !== undefined) return undefined;
    // the host lands in an inline script: a name or address and a port, nothing that could end the script
    if (!/^[\w.:[\]-]+$/.test(request.host ?? '')) return reply.code(400).type('text/plain; charset=utf-8').send('Bad Host header');
    const html = renderAltair({
      baseURL: IDE_BASE,
      endpointURL: '/graphql',
      subscriptionsEndpoint: `${request.protocol === 'https' ? 'wss' : 'ws'}://${request.host}/graphql`,
      initialSubscriptionRequestHandlerId: 'graphql-ws',
      initialQuery: FIRST_SCREEN,
      // no Altair Cloud sign-in, AI and plugin banners, update or push notifications
      disableAccount: true,
      persistedSettings: { 'banners.disable': true, 'alert.disableUpdateNotification': true, disablePushNotification: true },
    });
    return reply.type('text/html; charset=utf-8').send(html.replace('</head>', `<style>${HIDDEN_PROMPTS}</style></head>`));
  };
  return { assets, page };
}
