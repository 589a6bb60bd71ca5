import { Entity, Index, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { GraphQLJSON } from '../util/json-scalars.js';
import { BaseEntity } from './base.entity.js';
import { HelmRegistry } from './helm-registry.entity.js';
import { HelmTagFormat } from './helm-tag-format.entity.js';

/** One pushed chart version, with its chart-ext documents. */
@ObjectType()
@Entity({ tableName: 'helm_charts' })
@Index({ properties: ['helmRegistry', 'createdAt'] })
// one chart per tag: what chart discovery relies on when replicas find the same tag at once
@Unique({ properties: ['helmRegistry', 'imageTag'] })
export class HelmChart extends BaseEntity {
  @ManyToOne(() => HelmRegistry, { deleteRule: 'cascade' })
  helmRegistry!: HelmRegistry;

  @Field()
  @Property({ type: 'text' })
  imageDigest!: string;

  @Field()
  @Property({ type: 'text' })
  imageTag!: string;

  @Field()
  @Property({ type: 'boolean', default: true })
  available: boolean = true;

  @Field(() => GraphQLJSON, { nullable: true })
  @Property({ type: 'json', nullable: true })
  valuesUi?: unknown;

  @Field(() => GraphQLJSON, { nullable: true })
  @Property({ type: 'json', nullable: true })
  actionsSchema?: unknown;

  @Field(() => GraphQLJSON, { nullable: true })
  @Property({ type: 'json', nullable: true })
  features?: unknown;

  @Field(() => GraphQLJSON, { nullable: true })
  @Property({ type: 'json', nullable: true })
  resourceTypes?: unknown;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  error?: string | null;

  @ManyToOne(() => HelmTagFormat, { nullable: true, deleteRule: 'set null' })
  tagFormat?: HelmTagFormat | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  parsedVersion?: string | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  parsedRevision?: string | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  parsedBranch?: string | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  parsedCommit?: string | null;
}
