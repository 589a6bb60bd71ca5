import { Entity, Property } from '@mikro-orm/decorators/legacy';
import { BaseEntity } from './base.entity.js';

/**
 * A single sign-on login between the redirect to the provider and the callback. Kept in the
 * database, not in process memory, so the callback may reach any replica. Used once, then deleted.
 */
@Entity({ tableName: 'oidc_logins' })
export class OidcLogin extends BaseEntity {
  /** the OAuth state parameter, SHA-256 hashed */
  @Property({ type: 'text', unique: true, hidden: true })
  stateHash!: string;

  @Property({ type: 'text', hidden: true })
  codeVerifier!: string;

  @Property({ type: 'text', hidden: true })
  nonce!: string;

  @Property({ type: 'text' })
  redirectUri!: string;

  @Property({ type: 'datetime' })
  expiresAt!: Date;
}
