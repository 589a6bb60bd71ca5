import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from './support/server.js';

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
