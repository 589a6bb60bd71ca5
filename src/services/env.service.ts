import { Field, InputType } from 'type-graphql';
import { Env } from '../entities/index.js';
import { compact, iEquals, ReadService } from './read-service.js';

@InputType()
export class EnvFilter {
  @Field({ nullable: true, description: 'case-insensitive, exact' }) name?: string;
  @Field({ nullable: true }) autoAddNewUsers?: boolean;
}

export class EnvService extends ReadService<Env, EnvFilter> {
  constructor() {
    super({
      entity: Env,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) => compact({ name: f.name ? iEquals(f.name) : undefined, autoAddNewUsers: f.autoAddNewUsers }),
    });
  }
}
