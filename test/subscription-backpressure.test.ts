import { afterAll, beforeAll, expect, test } from '@jest/globals';
import WebSocket from 'ws';
import { K8sResource } from '../src/entities/index.js';
import type { World } from './support/deployment-world.js';
import { build, persist } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/server.js';
import { settleEvents } from './support/subscriptions.js';
import { seedWorld } from './support/deployment-world.js';

const QUEUE_LIMIT = 20;
let server: TestServer;
let w: World;
let admin: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer({ SUBSCRIPTION_QUEUE_LIMIT: String(QUEUE_LIMIT) });
  w = await seedWorld(server);
  admin = await server.adminAuth();
});

afterAll(async () => {
  await server.stop();
});

/** A graphql-transport-ws client by hand, so the test controls when it reads. */
async function rawSubscriber(query: string): Promise<{ socket: WebSocket; received: string[]; closed: Promise<{ code: number; reason: string }> }> {
  const socket = new WebSocket(server.berth.wsUrl, 'graphql-transport-ws');
  const received: string[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise((resolve) => socket.once('open', resolve));
  const acknowledged = new Promise((resolve) => socket.once('message', resolve));
  socket.send(JSON.stringify({ type: 'connection_init', payload: admin }));
  await acknowledged;
  const live = new Promise<void>((resolve) =>
    socket.on('message', (data) => {
      received.push(data.toString());
      if (data.toString().includes('"LIVE"')) resolve();
    }),
  );
  socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
  await live;
  return { socket, received, closed };
}

const RESOURCE_EVENTS = `subscription { k8sResourceEvents { operation cursor resource { name metadata } } }`;

test('a subscriber that stops reading is closed with 4008 once its queue is full; one that keeps up is not', async () => {
  // about 40 MB of messages in all, more than the kernel's socket buffers hold
  const big = { annotations: { blob: 'x'.repeat(64 * 1024) } };
  const resources = await persist(server, ...Array.from({ length: 30 }, (_, i) => build(K8sResource, { cluster: w.cluster, kind: 'Pod', apiVersion: 'v1', name: `pod-${i}`, metadata: big })));
  await settleEvents(server);
  const slow = await rawSubscriber(RESOURCE_EVENTS);
  const healthy = await rawSubscriber(RESOURCE_EVENTS);
  slow.socket.pause();

  const before = server.berth.events.subscriberCount;
  for (let round = 0; round < 20 && server.berth.events.subscriberCount === before; round++) {
    // one change at a time, each passed to the subscribers before the next: the healthy one never has more than one waiting
    for (const resource of resources) {
      await server.sql(`update k8s_resources set name = name || '.' where id = ?`, [resource.id]);
      await settleEvents(server);
    }
  }
  expect(server.berth.events.subscriberCount).toBe(before - 1);
  slow.socket.resume();
  expect(await slow.closed).toEqual({ code: 4008, reason: `Too slow: more than ${QUEUE_LIMIT} events waiting` });
  expect(healthy.socket.readyState).toBe(WebSocket.OPEN);

  healthy.socket.close();
  await healthy.closed;
});
