import { Field, InputType } from 'type-graphql';
import { Group } from '../entities/index.js';
import { compact, iContains, ReadService } from './read-service.js';

@InputType()
export class GroupFilter {
  @Field({ nullable: true, description: 'case-insensitive substring' }) name?: string;
  @Field({ nullable: true }) canAdmin?: boolean;
}

export class GroupService extends ReadService<Group, GroupFilter> {
  constructor() {
    super({
      entity: Group,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) => compact({ name: f.name ? iContains(f.name) : undefined, canAdmin: f.canAdmin }),
    });
  }
}
