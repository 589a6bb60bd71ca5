import { Field, ID, InputType } from 'type-graphql';
import type { Authenticator } from '../auth/authenticator.js';
import { Bot, BotToken, User } from '../entities/index.js';
import { findVisible, requireSiteAdmin } from '../policy/permissions.js';
import type { ServiceContext } from '../request/context.js';
import { snapshot, type UnitOfWork } from './unit-of-work.js';
import { compact, optionalUuid } from '../request/where.js';
import { ReadService } from './read-service.js';
import { checkTokenInput, newApiToken, revokeApiToken } from './user-token.service.js';
import { callerUser } from './user.service.js';

@InputType()
export class BotTokenFilter {
  @Field(() => ID, { nullable: true }) botId?: string;
  @Field(() => ID, { nullable: true }) createdByUserId?: string;
}

@InputType()
export class CreateBotTokenInput {
  @Field(() => ID) botId!: string;
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => Date, { nullable: true, description: 'null: never expires' }) expiresAt?: Date | null;
}

export class BotTokenService extends ReadService<BotToken, BotTokenFilter> {
  constructor(private readonly uow: UnitOfWork, private readonly authenticator: Authenticator) {
    super({
      entity: BotToken,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) => compact({ bot: optionalUuid(f.botId, 'botId'), createdByUser: optionalUuid(f.createdByUserId, 'createdByUserId') }),
    });
  }

  create(ctx: ServiceContext, input: CreateBotTokenInput): Promise<{ token: string; botToken: BotToken }> {
    return this.uow.mutation(ctx, 'createBotToken', async (tx, audit) => {
      const fields = checkTokenInput(input);
      const bot = await findVisible(tx, Bot, input.botId, 'input.botId');
      const g = await requireSiteAdmin(tx);
      const { row, token } = newApiToken();
      // site admins are users
      const botToken = Object.assign(new BotToken(), { ...row, ...fields, bot, createdByUser: tx.em.getReference(User, callerUser(g)!.id) });
      tx.em.persist(botToken);
      audit({ targetType: 'BotToken', targetId: botToken.id, after: snapshot(botToken) });
      return { token, botToken };
    });
  }

  revoke(ctx: ServiceContext, id: string): Promise<string> {
    return revokeApiToken(this.uow, ctx, this.authenticator, BotToken, 'revokeBotToken', id);
  }
}
