/**
 * The benchmark's baseline: the least a server can do to answer Berth's simple `user(id)` query —
 * node:http, one pg.Pool (max 10, as Berth's default pool) and one named prepared statement. No
 * GraphQL, no auth, no ORM. Started as a child process by graphql-bench.ts.
 *
 * Environment: DATABASE_URL (required), PORT (required), HOST (default 127.0.0.1).
 *   POST <any path>  body {"variables":{"id":"<uuid>"}} → {"data":{"user":{"id","email","displayName"}}}
 *   GET  /readyz     200 once the database answered
 */
import http from 'node:http';
import pg from 'pg';
import { exitOnSignals } from './peer-shutdown.js';

const databaseUrl = process.env.DATABASE_URL;
const port = Number(process.env.PORT);
const host = process.env.HOST ?? '127.0.0.1';
if (!databaseUrl || !Number.isInteger(port) || port <= 0) {
  console.error('baseline-server: DATABASE_URL and PORT are required');
  process.exit(2);
}

const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
// an idle client losing its connection must not crash the process (pg emits 'error' on the pool)
pool.on('error', (err) => console.error(`baseline-server: idle client error: ${err.message}`));

interface UserRow {
  id: string;
  email: string;
  display_name: string;
}

/** A named statement is parsed and planned once per pooled connection, then only executed. */
const userById = (id: string) =>
  pool.query<UserRow>({ name: 'user_by_id', text: 'select id, email, display_name from users where id = $1', values: [id] });

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (req.method === 'GET' && req.url === '/readyz') {
    await pool.query('select 1');
    return send(res, 200, { status: 'ready' });
  }
  if (req.method !== 'POST') return send(res, 405, { errors: [{ message: 'POST only' }] });

  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let id: unknown;
  try {
    id = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { variables?: { id?: unknown } }).variables?.id;
  } catch {
    return send(res, 400, { errors: [{ message: 'body is not JSON' }] });
  }
  if (typeof id !== 'string') return send(res, 400, { errors: [{ message: 'variables.id must be a string' }] });

  const { rows } = await userById(id);
  const row = rows[0];
  send(res, 200, { data: { user: row ? { id: row.id, email: row.email, displayName: row.display_name } : null } });
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err: unknown) => {
    console.error(`baseline-server: ${err instanceof Error ? err.message : String(err)}`);
    if (!res.headersSent) send(res, 500, { errors: [{ message: 'internal error' }] });
    else res.destroy();
  });
});

server.on('error', (err) => {
  console.error(`baseline-server: ${err.message}`);
  process.exit(1);
});
server.listen(port, host);

exitOnSignals(server, () => pool.end());
