/**
 * The benchmark's peer: PostGraphile 5 (the Amber preset, as shipped) serving GraphQL over Berth's database, which
 * it introspects at start. It has no authentication nor authorization: every request reads as the connection's
 * role. Started as a child process by graphql-bench.ts once Berth has migrated the database.
 *
 * Environment: DATABASE_URL (required), PORT (required), HOST (default 127.0.0.1).
 *   POST /graphql  GraphQL over HTTP (grafserv)
 *   GET  /readyz   200 once the schema is built (the database introspected)
 */
import http from 'node:http';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import { exitOnSignals } from './peer-shutdown.js';

const databaseUrl = process.env.DATABASE_URL;
const port = Number(process.env.PORT);
const host = process.env.HOST ?? '127.0.0.1';
if (!databaseUrl || !Number.isInteger(port) || port <= 0) {
  console.error('postgraphile-server: DATABASE_URL and PORT are required');
  process.exit(2);
}

const pgl = postgraphile({
  extends: [PostGraphileAmberPreset],
  // a pool of 10, as Berth's default (DATABASE_POOL_MAX); no LISTEN client, since nothing subscribes
  pgServices: [makePgService({ connectionString: databaseUrl, schemas: ['public'], poolConfig: { max: 10 }, pubsub: false })],
  grafserv: { graphqlPath: '/graphql', graphiql: false, watch: false, websockets: false },
});
const serv = pgl.createServ(grafserv);
// createHandler rather than addTo: no WebSockets here, and /readyz is answered before grafserv (which would 404 it)
const graphql = serv.createHandler();

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/readyz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"ready"}');
    return;
  }
  graphql(req, res);
});
server.on('error', (err) => {
  console.error(`postgraphile-server: ${err.message}`);
  process.exit(1);
});

// the schema first: a failed introspection ends the process, and /readyz answers only once requests can be served
try {
  await pgl.getSchema();
} catch (err) {
  console.error(`postgraphile-server: cannot build the schema: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
server.listen(port, host);

// releases grafserv too (PostGraphile forbids releasing that first)
exitOnSignals(server, () => pgl.release());
