import { Entity, Index, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
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

@Entity({ tableName: 'group_members' })
@Index({ properties: ['user'] })
export class GroupMember {
  @ManyToOne(() => Group, { primary: true, deleteRule: 'cascade' })
  group!: Group;

  @ManyToOne(() => User, { primary: true, deleteRule: 'cascade' })
  user!: User;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}

@Entity({ tableName: 'group_web_apps' })
export class GroupWebApp {
  @ManyToOne(() => Group, { primary: true, deleteRule: 'cascade' })
  group!: Group;

  @ManyToOne(() => WebApp, { primary: true, deleteRule: 'cascade' })
  webApp!: WebApp;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
