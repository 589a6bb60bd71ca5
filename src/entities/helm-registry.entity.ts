import { Entity, Enum, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from './base.entity.js';
import { DeploymentKind } from './deployment-kind.entity.js';
import { HelmRegistryProvider } from './enums.js';

@ObjectType()
@Entity({ tableName: 'helm_registries' })
@Unique({ properties: ['domainName', 'repoName'] })
export class HelmRegistry extends BaseEntity {
  @Field()
  @Property({ type: 'text' })
  domainName!: string;

  @Field()
  @Property({ type: 'text' })
  repoName!: string;

  @ManyToOne(() => DeploymentKind, { deleteRule: 'cascade' })
  kind!: DeploymentKind;

  @Field()
  @Property({ type: 'boolean', default: true })
  available: boolean = true;

  @Field()
  @Property({ type: 'text', default: 'question' })
  faIcon: string = 'question';

  @Field(() => HelmRegistryProvider)
  @Enum({ items: () => HelmRegistryProvider, nativeEnumName: 'helm_registry_provider', default: HelmRegistryProvider.Ecr })
  provider: HelmRegistryProvider = HelmRegistryProvider.Ecr;
}
