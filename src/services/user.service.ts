import { Field, InputType } from 'type-graphql';
import { User } from '../entities/index.js';
import { UserApprovalState } from '../entities/enums.js';
import { compact, iContains, iEquals, ReadService } from './read-service.js';

@InputType({ description: 'Every field is optional; given fields are combined with AND.' })
export class UserFilter {
  @Field({ nullable: true, description: 'case-insensitive substring' }) displayName?: string;
  @Field({ nullable: true, description: 'case-insensitive substring' }) email?: string;
  @Field({ nullable: true, description: 'case-insensitive, exact' }) username?: string;
  @Field({ nullable: true }) isActive?: boolean;
  @Field({ nullable: true }) isAdmin?: boolean;
  @Field(() => UserApprovalState, { nullable: true }) approvalState?: UserApprovalState;
}

export class UserService extends ReadService<User, UserFilter> {
  constructor() {
    super({
      entity: User,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) =>
        compact({
          displayName: f.displayName ? iContains(f.displayName) : undefined,
          email: f.email ? iContains(f.email) : undefined,
          username: f.username ? iEquals(f.username) : undefined,
          isActive: f.isActive,
          isAdmin: f.isAdmin,
          approvalState: f.approvalState,
        }),
    });
  }
}
