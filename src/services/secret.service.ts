import { Field, ID, InputType } from 'type-graphql';
import { Secret } from '../entities/index.js';
import { compact, iEquals, optionalUuid, ReadService } from './read-service.js';

@InputType()
export class SecretFilter {
  @Field(() => ID, { nullable: true }) envId?: string;
  @Field({ nullable: true, description: 'case-insensitive, exact' }) collection?: string;
  @Field({ nullable: true, description: 'case-insensitive, exact' }) name?: string;
}

/** Secret metadata only: the contents are write-only and never leave the database decrypted through an API. */
export class SecretService extends ReadService<Secret, SecretFilter> {
  constructor() {
    super({
      entity: Secret,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) =>
        compact({
          env: optionalUuid(f.envId, 'filter.envId'),
          collection: f.collection ? iEquals(f.collection) : undefined,
          name: f.name ? iEquals(f.name) : undefined,
        }),
    });
  }
}
