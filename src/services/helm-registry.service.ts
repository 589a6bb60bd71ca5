import { Field, ID, InputType } from 'type-graphql';
import { HelmRegistry } from '../entities/index.js';
import { HelmRegistryProvider } from '../entities/enums.js';
import { compact, optionalUuid, ReadService } from './read-service.js';

@InputType()
export class HelmRegistryFilter {
  @Field({ nullable: true, description: 'exact' }) repoName?: string;
  @Field({ nullable: true, description: 'exact' }) domainName?: string;
  @Field(() => ID, { nullable: true }) kindId?: string;
  @Field(() => HelmRegistryProvider, { nullable: true }) provider?: HelmRegistryProvider;
}

export class HelmRegistryService extends ReadService<HelmRegistry, HelmRegistryFilter> {
  constructor() {
    super({
      entity: HelmRegistry,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) =>
        compact({ repoName: f.repoName, domainName: f.domainName, kind: optionalUuid(f.kindId, 'filter.kindId'), provider: f.provider }),
    });
  }
}
