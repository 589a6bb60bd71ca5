import { createUnionType, Field, ID, ObjectType, registerEnumType, type ClassType } from 'type-graphql';
import type { EventMessage } from '../events/event-stream.js';
import { EVENT_TABLES, type EventTable } from '../events/event-types.js';

/** What a subscription message reports. */
export enum EventOperation {
  INSERT = 'INSERT',
  UPDATE = 'UPDATE',
  DELETE = 'DELETE',
  ENTER = 'ENTER',
  LEAVE = 'LEAVE',
  SNAPSHOT = 'SNAPSHOT',
  LIVE = 'LIVE',
}

registerEnumType(EventOperation, {
  name: 'EventOperation',
  description:
    'INSERT, UPDATE, DELETE: a committed change. ENTER, LEAVE: an object came into or went out of what the subscription selects and you may see (it moved, or your roles changed). SNAPSHOT: an object as it was when the subscription opened. LIVE: the opening (snapshot or replay) is complete; changes follow',
  valuesConfig: {
    ENTER: { description: 'the object now belongs to this subscription: it moved in (another env, cluster, …) or a role you were granted shows it; add it as for INSERT' },
    LEAVE: { description: 'the object no longer belongs to this subscription: it moved out or a role was taken; remove it as for DELETE (it may still exist; the object is null)' },
    SNAPSHOT: { description: 'an object of the opening snapshot (subscriptions without since)' },
    LIVE: { description: 'marker: everything before it was the snapshot or the replay from since' },
  },
});

/** The event types by GraphQL name (DEPLOYMENT, K8S_RESOURCE, …); the values are the log's table names. */
export const EventType = Object.fromEntries(
  Object.entries(EVENT_TABLES).map(([table, entity]) => [entity.name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase(), table]),
) as Record<string, EventTable>;

registerEnumType(EventType, { name: 'EventType', description: 'The kinds of object that produce change events' });

const EventNode = createUnionType({
  name: 'EventNode',
  types: () => Object.values(EVENT_TABLES) as unknown as [ClassType, ...ClassType[]],
  resolveType: (value) => (value as object).constructor.name,
});

const nodeDescription = 'the object as it is now, as you may see it; null for DELETE, LEAVE, LIVE, and objects gone since';

/** What every subscription message has (not a type of its own: never referenced). */
@ObjectType()
abstract class EventMessageFields {
  @Field(() => EventOperation)
  operation!: EventOperation;

  @Field({ description: 'pass as since to resume right after this message' })
  cursor!: string;

  @Field(() => ID, { nullable: true, description: 'the changed object; null on the LIVE marker' })
  id!: string | null;
}

/** A subscription's message type: the common fields, and the object under `field`. */
function eventMessageType(name: string, node: ClassType, field: string, description: string) {
  @ObjectType(name, { description })
  class Message extends EventMessageFields {
    @Field(() => node, { name: field, nullable: true, description: nodeDescription })
    node!: object | null;
  }
  return Message;
}

export const DeploymentEvent = eventMessageType('DeploymentEvent', EVENT_TABLES.deployments, 'deployment', 'A change to a deployment');
export const DeploymentTaskEvent = eventMessageType('DeploymentTaskEvent', EVENT_TABLES.deployment_tasks, 'task', 'A change to a deployment task');
export const K8sResourceEvent = eventMessageType('K8sResourceEvent', EVENT_TABLES.k8s_resources, 'resource', 'A change to a mirrored Kubernetes resource');

@ObjectType({ description: 'A change to any object, for a general feed' })
export class ChangeEvent extends EventMessageFields {
  @Field(() => EventType, { nullable: true, description: 'null on the LIVE marker' })
  type!: EventTable | null;

  @Field(() => EventNode, { nullable: true, description: nodeDescription })
  node!: object | null;
}

/** The stream's message in the shape of ChangeEvent (its `type` is the log's table). */
export const asChangeEvent = (m: EventMessage): ChangeEvent => ({ ...m, operation: m.operation as EventOperation, type: m.table });
