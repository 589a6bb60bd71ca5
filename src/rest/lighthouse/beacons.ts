import { z } from 'zod';
import type { ClusterNode } from '../../k8s/cluster-api.js';
import type { Beacon } from '../../services/beacon.service.js';
import { restRoute } from '../routes.js';
import { BareString, Empty, lighthouseSchemas } from './schemas.js';

const TAG = 'Beacons';

const BeaconJson = z.object({ Alias: z.string().describe('empty when the beacon has none'), Address: z.string() });
lighthouseSchemas.add(BeaconJson, { id: 'Beacon' });

const InstanceJson = z.object({
  Alias: z.string().describe("`<beacon alias>.<node name>`"),
  InstanceAddress: z.string().describe("`<node address>:<kubelet port>/<kubelet version>`"),
  Name: z.string().describe("the node's name"),
  CanAccessDocker: z.boolean().describe('the node is Ready'),
  BeaconAddress: z.string(),
});
lighthouseSchemas.add(InstanceJson, { id: 'Instance' });

/** A node of a beacon's cluster as a Lighthouse instance. */
const instanceJson = (beacon: Beacon, node: ClusterNode): z.input<typeof InstanceJson> => ({
  Alias: beacon.alias ? `${beacon.alias}.${node.name}` : node.name,
  InstanceAddress: `${node.address}:${node.port}/${node.version}`,
  Name: node.name,
  CanAccessDocker: node.ready,
  BeaconAddress: beacon.address,
});

const BeaconParams = z.object({ Beacon: z.string().describe("the beacon's address or alias (URL-encode a `/` in it)") });

export const beaconRoutes = [
  restRoute({
    method: 'POST',
    url: '/beacons/create',
    tag: TAG,
    summary: 'Connect a beacon: a cluster, in an env of its own, the caller its owner',
    description:
      'Address: host:port (meaning https), or an http(s) URL. Token: the bearer token Berth calls the beacon with, stored encrypted. Callers of auth level 1 or more; the beacon is not contacted until its instances are asked for. A second beacon at the same address, or an alias taken, is a 400.',
    body: z.object({ Address: z.string().min(1), Token: z.string().optional(), Alias: z.string().optional() }),
    response: Empty,
    handle: async (ctx, { body }) => {
      await ctx.services.beacons.create(ctx, { address: body.Address, token: body.Token, alias: body.Alias });
      return undefined;
    },
  }),
  restRoute({
    method: 'PUT',
    url: '/beacons/token/:Beacon',
    tag: TAG,
    summary: "Change a beacon's token",
    description: 'The body is the new token, a bare JSON string. Needs modify (1) on the beacon.',
    params: BeaconParams,
    body: BareString('the new token'),
    response: Empty,
    handle: async (ctx, { params, body }) => {
      await ctx.services.beacons.setToken(ctx, params.Beacon, body);
      return undefined;
    },
  }),
  restRoute({
    method: 'GET',
    url: '/beacons/list',
    tag: TAG,
    summary: 'The beacons the caller may access',
    response: z.array(BeaconJson),
    handle: async (ctx) => (await ctx.services.beacons.list(ctx)).map((b) => ({ Alias: b.alias, Address: b.address })),
  }),
  restRoute({
    method: 'GET',
    url: '/beacons/list/:Address',
    tag: TAG,
    summary: "A beacon's instances: its cluster's nodes, read from it",
    description: 'An empty list for a beacon the caller may not access, as for an unknown one. `refresh` is accepted and changes nothing: the nodes are always read afresh.',
    params: z.object({ Address: z.string().describe("the beacon's address (URL-encode a `/` in it)") }),
    query: z.object({ refresh: z.enum(['true', 'false']).optional() }),
    errors: { 502: "the beacon's cluster could not be reached, or refused the token" },
    response: z.array(InstanceJson),
    handle: async (ctx, { params }) => {
      const found = await ctx.services.beacons.instances(ctx, params.Address);
      return found ? found.nodes.map((node) => instanceJson(found.beacon, node)) : [];
    },
  }),
];
