import { Field, InputType } from 'type-graphql';
import type { Authenticator } from '../auth/authenticator.js';
import { Bot } from '../entities/index.js';
import { findVisible, requireSiteAdmin } from '../policy/permissions.js';
import type { ServiceContext } from '../request/context.js';
import { snapshot, type UnitOfWork } from './unit-of-work.js';
import { requiredText } from './input-rules.js';
import { compact, iContains } from '../request/where.js';
import { ReadService } from './read-service.js';

@InputType()
export class BotFilter {
  @Field({ nullable: true, description: 'case-insensitive substring' }) displayName?: string;
}

@InputType()
export class CreateBotInput {
  @Field() displayName!: string;
}

@InputType({ description: 'Fields left out (or null) stay as they are.' })
export class UpdateBotInput {
  @Field(() => String, { nullable: true }) displayName?: string | null;
}

/** Bots are managed by site admins; they hold env and deployment-kind roles like users. */
export class BotService extends ReadService<Bot, BotFilter> {
  constructor(private readonly uow: UnitOfWork, private readonly authenticator: Authenticator) {
    super({ entity: Bot, order: [{ field: 'createdAt', direction: 'ASC' }], where: (f) => compact({ displayName: f.displayName ? iContains(f.displayName) : undefined }) });
  }

  create(ctx: ServiceContext, input: CreateBotInput): Promise<Bot> {
    return this.uow.mutation(ctx, 'createBot', async (tx, audit) => {
      const displayName = requiredText(input.displayName, 'input.displayName');
      await requireSiteAdmin(tx);
      const bot = Object.assign(new Bot(), { displayName });
      tx.em.persist(bot);
      audit({ targetType: 'Bot', targetId: bot.id, after: snapshot(bot) });
      return bot;
    });
  }

  update(ctx: ServiceContext, id: string, input: UpdateBotInput): Promise<Bot> {
    return this.uow.mutation(ctx, 'updateBot', async (tx, audit) => {
      const displayName = input.displayName != null ? requiredText(input.displayName, 'input.displayName') : undefined;
      const bot = await findVisible(tx, Bot, id);
      await requireSiteAdmin(tx);
      const before = snapshot(bot);
      if (displayName !== undefined) bot.displayName = displayName;
      audit({ targetType: 'Bot', targetId: bot.id, before, after: snapshot(bot) });
      return bot;
    });
  }

  /** Its tokens and roles go with it (foreign keys cascade); its cached credentials stop working at once. */
  async delete(ctx: ServiceContext, id: string): Promise<string> {
    const botId = await this.uow.deleteVisible(ctx, 'deleteBot', Bot, id, requireSiteAdmin);
    this.authenticator.forgetIdentity('bot', botId);
    return botId;
  }
}
