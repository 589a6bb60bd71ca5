import { Entity, Enum, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Field, Int, ObjectType } from 'type-graphql';
import { BaseEntity } from './base.entity.js';
import { UserApprovalState } from './enums.js';
import { K8sServiceAccount } from './k8s-service-account.entity.js';

/** A person. Unifies Platz's, Kubportal's, Porter's, Lighthouse's and Storj's users. */
@ObjectType()
@Entity({ tableName: 'users' })
@Unique({ properties: ['oidcIssuer', 'oidcSubject'] })
@Unique({ name: 'users_email_lower_unique', expression: 'create unique index "users_email_lower_unique" on "users" (lower("email"))' })
export class User extends BaseEntity {
  @Field()
  @Property({ type: 'text' })
  email!: string;

  @Field()
  @Property({ type: 'text', unique: true })
  username!: string;

  @Field()
  @Property({ type: 'text' })
  displayName!: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  firstName?: string | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  lastName?: string | null;

  /** argon2id; null for single-sign-on users. Never exposed. */
  @Property({ type: 'text', nullable: true, hidden: true })
  passwordHash?: string | null;

  @Field()
  @Property({ type: 'boolean', default: false })
  isAdmin: boolean = false;

  @Field()
  @Property({ type: 'boolean', default: true })
  isActive: boolean = true;

  /** Lighthouse's global AuthLevel */
  @Field(() => Int)
  @Property({ type: 'integer', default: 0 })
  authLevel: number = 0;

  @Field(() => UserApprovalState)
  @Enum({ items: () => UserApprovalState, nativeEnumName: 'user_approval_state', default: UserApprovalState.NEW })
  approvalState: UserApprovalState = UserApprovalState.NEW;

  @Field(() => [String])
  @Property({ type: 'text[]', defaultRaw: "'{}'" })
  alternativeEmails: string[] = [];

  /** Storj's per-user project limit */
  @Field(() => Int, { nullable: true })
  @Property({ type: 'integer', nullable: true })
  projectLimit?: number | null;

  /** Porter's raw kubeconfig, AES-256-GCM encrypted. Never exposed. */
  @Property({ type: 'text', nullable: true, hidden: true })
  rawKubeconfigEncrypted?: string | null;

  /** Porter's allowed clusters: names of clusters of that kubeconfig; the user's clusters are its contexts on them */
  @Property({ type: 'text[]', defaultRaw: "'{}'" })
  allowedClusters: string[] = [];

  @ManyToOne(() => K8sServiceAccount, { nullable: true, deleteRule: 'set null' })
  serviceAccount?: K8sServiceAccount | null;

  /**
   * The token of the service account provisioned for the user (TokenRequest), AES-256-GCM encrypted and bound to the
   * row. Never exposed but as Kubportal's `k8s_token`, to the user itself.
   */
  @Property({ type: 'text', nullable: true, hidden: true })
  k8sTokenEncrypted?: string | null;

  /** Kubportal's approval request id, renewed by each access request */
  @Property({ type: 'uuid', nullable: true, hidden: true })
  approvalId?: string | null;

  /** the admin who approved or rejected the last access request */
  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  approvalAnsweredBy?: User | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  approvalComments?: string | null;

  /** single sign-on identity: the provider's issuer and subject */
  @Property({ type: 'text', nullable: true, hidden: true })
  oidcIssuer?: string | null;

  @Property({ type: 'text', nullable: true, hidden: true })
  oidcSubject?: string | null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  lastLoginAt?: Date | null;
}
