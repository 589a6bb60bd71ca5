import { Arg, Ctx, Field, Mutation, ObjectType, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../src/graphql/context.js';
import type { SingleSignOnStart as Start } from '../src/services/single-sign-on.service.js';
import { AuthPayload } from './auth-payload.js';

@ObjectType({ description: 'Where to send the browser to sign in with the single sign-on provider' })
export class SingleSignOnStart implements Start {
  @Field({ description: "the provider's authorization endpoint with this login's parameters (PKCE S256)" }) authorizationUrl!: string;
  @Field({ description: 'comes back with the code on the redirect URI; pass both to finishSingleSignOn within 10 minutes' }) state!: string;
}

@Resolver()
export class SingleSignOnResolver {
  @Mutation(() => SingleSignOnStart, { description: 'Starts a single sign-on login (no authentication needed)' })
  startSingleSignOn(@Ctx() ctx: GraphQLContext): Promise<SingleSignOnStart> {
    return ctx.services.singleSignOn.start(ctx);
  }

  @Mutation(() => AuthPayload, { description: 'Finishes a single sign-on login with what the provider sent to the redirect URI (no authentication needed)' })
  finishSingleSignOn(
    @Arg('code', () => String) code: string,
    @Arg('state', () => String) state: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<AuthPayload> {
    return ctx.services.singleSignOn.finish(ctx, code, state);
  }
}
