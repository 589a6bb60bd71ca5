import { Entity, Index, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { BaseEntity } from './base.entity.js';
import { User } from './user.entity.js';

/**
 * A login. Access tokens carry its id (sid) so logout revokes them; the refresh token is
 * "<id>.<secret>" with the secret stored as a SHA-256 hash and rotated on every refresh.
 */
@Entity({ tableName: 'user_sessions' })
@Index({ properties: ['user'] })
export class UserSession extends BaseEntity {
  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: User;

  @Property({ type: 'text', hidden: true })
  refreshSecretHash!: string;

  @Property({ type: 'datetime' })
  expiresAt!: Date;

  @Property({ type: 'datetime', nullable: true })
  revokedAt?: Date | null;

  @Property({ type: 'datetime', nullable: true })
  lastRefreshedAt?: Date | null;
}
