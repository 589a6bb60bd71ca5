import { Entity, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { BaseEntity } from './base.entity.js';
import { Env } from './env.entity.js';

/**
 * An API key of an env (Storj's project API keys), named uniquely within its env. Only the SHA-256 of its secret is
 * kept (src/auth/opaque-token.ts), so the key is shown once, when it is made. Berth authenticates nothing with it:
 * it is the bookkeeping Storj's admin clients keep of a project's keys.
 */
@Entity({ tableName: 'env_api_keys' })
@Unique({ name: 'env_api_keys_env_name_unique', properties: ['env', 'name'] })
export class EnvApiKey extends BaseEntity {
  @ManyToOne(() => Env, { deleteRule: 'cascade' })
  env!: Env;

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'text', hidden: true })
  secretHash!: string;

  /** Storj's partner the key was made for, when one was named */
  @Property({ type: 'uuid', nullable: true })
  partnerId?: string | null;
}
