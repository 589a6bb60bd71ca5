import { Migration } from '@mikro-orm/migrations';

/**
 * The counters of login throttling on PostgreSQL, shared by the replicas: rate-limiter-flexible's RateLimiterPostgres
 * table (its columns as the library writes them; `expire` in epoch milliseconds), created here rather than by the
 * library at run time. No entity maps it, so the schema diff skips it (src/db/orm.ts).
 */
export class Migration20261220090000_LoginThrottle extends Migration {

  override name = 'Migration20261220090000_LoginThrottle';

  override up(): void | Promise<void> {
    this.addSql(`create table "login_throttle" ("key" varchar(255) not null primary key, "points" integer not null default 0, "expire" bigint null);`);
    this.addSql(`create index "login_throttle_expire_index" on "login_throttle" ("expire");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "login_throttle";`);
  }

}
