import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { BerthOptions } from '../src/server/app.js';
import { seedFleet } from './support/fixtures.js';
import { recordingLogger } from './support/logger.js';
import { startTestServer, type TestServer } from './support/server.js';
import { waitFor } from './support/subscriptions.js';

/** Apollo's HTTP drain gives up on open connections after 10 s: shutdown must end well before it. */
const STOP_BOUND_MS = 5000;

let server: TestServer;
const peers: HungPeer[] = [];
let stopped = false;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  peers.forEach((peer) => peer.socket.destroy());
  if (!stopped) await server.berth.stop();
  await server.db.drop();
});

interface Frame {
  opcode: number;
  payload: Buffer;
}

/** The server's frames (unmasked) in what it sent after the handshake; a trailing partial frame is left out. */
function framesOf(data: Buffer): Frame[] {
  const frames: Frame[] = [];
  let at = data.indexOf('\r\n\r\n') + 4;
  while (at + 2 <= data.length) {
    let length = data[at + 1] & 0x7f;
    let start = at + 2;
    if (length === 126) [length, start] = [data.readUInt16BE(at + 2), at + 4];
    if (start + length > data.length) break;
    frames.push({ opcode: data[at] & 0x0f, payload: data.subarray(start, start + length) });
    at = start + length;
  }
  return frames;
}

/**
 * A WebSocket client spoken by hand over TCP that hangs once connected: it stops reading, so it answers
 * neither the server's close frame nor its TCP FIN, as a stuck client or one gone off the network.
 */
class HungPeer {
  private data = Buffer.alloc(0);
  private readonly arrived = new Set<() => void>();
  readonly closed: Promise<void>;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.data = Buffer.concat([this.data, chunk]);
      this.arrived.forEach((check) => check());
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  /**
   * Asks to upgrade `path` with these headers; resolves once the server has answered with `status`. A refusal
   * comes with the server's FIN, read before the peer can hang: it never answers that FIN (allowHalfOpen), or
   * Node would answer it on its behalf.
   */
  static async open(path: string, headers: Record<string, string>, status = 101): Promise<HungPeer> {
    const socket = net.connect({ port: server.berth.port, host: '127.0.0.1', allowHalfOpen: status !== 101 });
    const peer = new HungPeer(socket);
    peers.push(peer);
    const lines = [
      `GET ${path} HTTP/1.1`,
      `Host: 127.0.0.1:${server.berth.port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    ];
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    await peer.until(() => peer.data.includes('\r\n\r\n'));
    expect(peer.data.toString('latin1', 0, 12)).toBe(`HTTP/1.1 ${status}`);
    return peer;
  }

  /** Sends a text frame, masked as a client must. */
  send(text: string): void {
    const payload = Buffer.from(text);
    const mask = randomBytes(4);
    expect(payload.length).toBeLessThan(126);
    this.socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, payload.map((byte, i) => byte ^ mask[i % 4])]));
  }

  get frames(): Frame[] {
    return framesOf(this.data);
  }

  /** Waits for what the server sent to satisfy `done`. */
  until(done: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!done()) return;
        this.arrived.delete(check);
        resolve();
      };
      this.arrived.add(check);
      check();
    });
  }

  hang(): void {
    this.socket.pause();
  }

  /** Reads what the server sent while hung: its close frame, then the end of the connection. */
  wake(): Promise<void> {
    this.socket.resume();
    return this.closed;
  }
}

test('shutdown closes every WebSocket with 1001 and terminates those that do not answer, well before the HTTP drain gives up', async () => {
  const admin = await server.adminAuth();

  const graphqlWs = await HungPeer.open('/graphql', { 'Sec-WebSocket-Protocol': 'graphql-transport-ws' });
  graphqlWs.send(JSON.stringify({ type: 'connection_init' }));
  await graphqlWs.until(() => graphqlWs.frames.some((frame) => frame.opcode === 0x1 && String(frame.payload).includes('connection_ack')));
  const platz = await HungPeer.open('/api/v2/ws', { Authorization: admin.authorization });
  // refused, but its socket is still the server's to close
  await HungPeer.open('/nowhere', {}, 404);
  // a well-behaved client with a subscription running (lazy: the close reaches its sink, not the console)
  const client = createClient({ url: server.berth.wsUrl, webSocketImpl: WebSocket, connectionParams: admin, retryAttempts: 0 });
  const clientClosed = new Promise<{ code: number }>((resolve) => client.on('closed', (event) => resolve(event as { code: number })));
  await new Promise((resolve) => client.subscribe({ query: 'subscription { events(types: [ENV]) { operation } }' }, { next: resolve, error: () => {}, complete: () => {} }));
  graphqlWs.hang();
  platz.hang();

  const start = performance.now();
  await server.berth.stop();
  stopped = true;
  expect(performance.now() - start).toBeLessThan(STOP_BOUND_MS);
  expect(await clientClosed).toMatchObject({ code: 1001 });
  for (const peer of [graphqlWs, platz]) {
    await peer.wake();
    const last = peer.frames.at(-1);
    expect(last?.opcode).toBe(0x8);
    expect(last?.payload.readUInt16BE(0)).toBe(1001);
  }
});

/** A POST of `body` to /graphql on a keep-alive connection of its own, which `hangUp` resets before the answer. */
function request(port: number, headers: Record<string, string>, body: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const req = http.request({ host: '127.0.0.1', port, path: '/graphql', method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } });
  req.on('error', () => {});
  req.end(body);
  const answer = (async () => {
    const [res] = (await once(req, 'response')) as [http.IncomingMessage];
    let text = '';
    for await (const chunk of res) text += chunk;
    return { status: res.statusCode, connection: res.headers.connection, body: JSON.parse(text) as { data?: { deployments: { edges: unknown[] } }; errors?: unknown[] } };
  })();
  // a request hung up on has no answer to wait for
  answer.catch(() => {});
  void answer.finally(() => agent.destroy()).catch(() => {});
  // with a reset, as a client that crashed or timed out: the server's socket closes at once, the handler runs on
  return { answer, hangUp: () => req.socket?.resetAndDestroy() };
}

const DEPLOYMENTS = JSON.stringify({ query: '{ deployments(first: 50) { edges { node { id cluster { name env { name } } kind { name } helmChart { imageTag } latestTask { id status } } } } }' });

/** A server of its own over a fleet of 50 deployments, logging to `logger`. */
async function fleetServer(logger: ReturnType<typeof recordingLogger>) {
  let pages = 0;
  let trigger: { after: number; then: () => void } | undefined;
  // the ORM's query log is read inside the request that runs the query: a request whose page was just logged is
  // certainly being handled, its relations still to load
  const ormOverrides: BerthOptions['ormOverrides'] = {
    debug: ['query'],
    logger: (line: string) => {
      if (trigger && / from "deployments"( as "\w+")? /.test(line) && ++pages === trigger.after) trigger.then();
    },
  };
  const own = await startTestServer({}, { logger, ormOverrides });
  await seedFleet(own.em, { deployments: 50 });
  const headers = await own.adminAuth();
  return {
    own,
    /** Fires `n` requests for the whole fleet with its relations; `then` runs as the `after`-th has read its page. */
    fire(n: number, after: number, then: () => void) {
      pages = 0;
      trigger = { after, then };
      return Array.from({ length: n }, () => request(own.berth.port, headers, DEPLOYMENTS));
    },
    async [Symbol.asyncDispose]() {
      await own.berth.stop();
      await own.db.drop();
    },
  };
}

/** What shutdown must not log: an error (a request failing on a closed pool), or a component not closing cleanly. */
const faults = (logger: ReturnType<typeof recordingLogger>) => logger.lines.filter((l) => l.level === 'error' || /did not close in time|failed to close/.test(l.msg));

test('requests in flight when shutdown begins are answered before the database closes, ending their keep-alive connections', async () => {
  const logger = recordingLogger();
  await using fleet = await fleetServer(logger);
  let stopped: Promise<void> | undefined;
  const requests = fleet.fire(8, 8, () => (stopped = fleet.own.berth.stop()));
  const answers = await Promise.all(requests.map((r) => r.answer));
  expect(stopped).toBeDefined();
  await stopped;
  for (const { status, body } of answers) {
    expect({ status, errors: body.errors, edges: body.data?.deployments.edges.length }).toEqual({ status: 200, errors: undefined, edges: 50 });
  }
  // (at least) the last to read its page was still loading its relations: a keep-alive client sends nothing more on
  // a connection the shutdown is closing
  expect(answers.some((a) => a.connection === 'close')).toBe(true);
  expect(faults(logger)).toEqual([]);
});

test('requests whose clients hung up still finish before the database closes, so shutdown logs no error', async () => {
  const logger = recordingLogger();
  await using fleet = await fleetServer(logger);
  let stopped: Promise<void> | undefined;
  const requests = fleet.fire(40, 5, () => {
    requests.forEach((r) => r.hangUp());
    stopped = fleet.own.berth.stop();
  });
  await waitFor(() => stopped !== undefined, 'a request to read its page');
  await stopped;
  // "driver has already been destroyed" was how such a request failed
  expect(faults(logger)).toEqual([]);
});
