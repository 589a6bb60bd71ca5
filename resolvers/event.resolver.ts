import { Args, ArgsType, Field, ID, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { asChangeEvent, ChangeEvent, DeploymentEvent, DeploymentTaskEvent, EventType, K8sResourceEvent } from '../src/graphql/event-message.js';
import type { EventMessage } from '../src/events/event-stream.js';
import type { EventTable } from '../src/events/event-types.js';
import { requireConnection, type GraphQLContext } from '../src/graphql/context.js';

const sinceDescription = 'resume right after this cursor (from an earlier message), replaying what was missed; without it the stream opens with a snapshot';

@ArgsType()
class DeploymentEventsArgs {
  @Field(() => ID, { nullable: true }) env?: string;
  @Field(() => ID, { nullable: true }) cluster?: string;
  @Field(() => ID, { nullable: true }) kind?: string;
  @Field(() => ID, { nullable: true }) deployment?: string;
  @Field({ nullable: true, description: sinceDescription }) since?: string;
}

@ArgsType()
class DeploymentTaskEventsArgs {
  @Field(() => ID, { nullable: true }) deployment?: string;
  @Field(() => ID, { nullable: true }) cluster?: string;
  @Field({ nullable: true, description: sinceDescription }) since?: string;
}

@ArgsType()
class K8sResourceEventsArgs {
  @Field(() => ID, { nullable: true }) cluster?: string;
  @Field(() => ID, { nullable: true }) deployment?: string;
  @Field({ nullable: true, description: 'Kubernetes kind, e.g. Deployment' }) kind?: string;
  @Field({ nullable: true, description: sinceDescription }) since?: string;
}

@ArgsType()
class EventsArgs {
  @Field(() => [EventType], { nullable: true, description: 'the kinds of object to follow; all when left out' }) types?: EventTable[];
  @Field({ nullable: true, description: sinceDescription }) since?: string;
}

type Data<A> = SubscribeResolverData<unknown, A, GraphQLContext>;

/** Change events over graphql-ws; what each subscriber sees is decided in EventService. */
@Resolver()
export class EventResolver {
  @Subscription(() => DeploymentEvent, {
    description: 'Deployments you may see, filtered by env, cluster, kind or deployment',
    subscribe: ({ args, context }: Data<DeploymentEventsArgs>) => context.services.events.deploymentEvents(context, args, requireConnection(context)),
  })
  deploymentEvents(@Root() message: EventMessage, @Args(() => DeploymentEventsArgs) _args: DeploymentEventsArgs): EventMessage {
    return message;
  }

  @Subscription(() => DeploymentTaskEvent, {
    description: 'Deployment tasks you may see, filtered by deployment or cluster',
    subscribe: ({ args, context }: Data<DeploymentTaskEventsArgs>) => context.services.events.deploymentTaskEvents(context, args, requireConnection(context)),
  })
  deploymentTaskEvents(@Root() message: EventMessage, @Args(() => DeploymentTaskEventsArgs) _args: DeploymentTaskEventsArgs): EventMessage {
    return message;
  }

  @Subscription(() => K8sResourceEvent, {
    description: 'Mirrored Kubernetes resources you may see, filtered by cluster, deployment or kind',
    subscribe: ({ args, context }: Data<K8sResourceEventsArgs>) => context.services.events.k8sResourceEvents(context, args, requireConnection(context)),
  })
  k8sResourceEvents(@Root() message: EventMessage, @Args(() => K8sResourceEventsArgs) _args: K8sResourceEventsArgs): EventMessage {
    return message;
  }

  @Subscription(() => ChangeEvent, {
    description: 'Every change you may see, of the given types',
    subscribe: ({ args, context }: Data<EventsArgs>) => context.services.events.events(context, args, requireConnection(context)),
  })
  events(@Root() message: EventMessage, @Args(() => EventsArgs) _args: EventsArgs): ChangeEvent {
    return asChangeEvent(message);
  }
}
