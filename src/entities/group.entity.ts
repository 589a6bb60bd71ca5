import { Entity, Index, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from './base.entity.js';
import { User } from './user.entity.js';
import { WebApp } from './web-app.entity.js';

/** Kubportal's portal group. */
@ObjectType()
@Entity({ tableName: 'groups' })
export class Group extends BaseEntity {
  @Field()
  @Property({ type: 'text', unique: true })
  name!: string;

  /** automatically contains every user */
  @Field()
  @Property({ type: 'boolean', default: false })
  specialAllAccounts: boolean = false;

  /** automatically contains every approved user with a service account */
  @Field()
  @Property({ type: 'boolean', default: false })
  specialK8sAccounts: boolean = false;

  /** members are site admins */
  @Field()
  @Property({ type: 'boolean', default: false })
  canAdmin: boolean = false;
}

/** A user's membership in a group. */
@Entity({ tableName: 'group_members' })
@Unique({ properties: ['group', 'user'] })
@Index({ properties: ['user'] })
export class GroupMember extends BaseEntity {
  @ManyToOne(() => Group, { deleteRule: 'cascade' })
  group!: Group;

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: User;
}

/** A web app shown to a group's members. */
@Entity({ tableName: 'group_web_apps' })
@Unique({ properties: ['group', 'webApp'] })
@Index({ properties: ['webApp'] })
export class GroupWebApp extends BaseEntity {
  @ManyToOne(() => Group, { deleteRule: 'cascade' })
  group!: Group;

  @ManyToOne(() => WebApp, { deleteRule: 'cascade' })
  webApp!: WebApp;
}
