import { Migration } from '@mikro-orm/migrations';

/** Porter's allowed clusters of a user's kubeconfig (src/entities/user.entity.ts). */
export class Migration20261227090000_PorterAllowedClusters extends Migration {

  override name = 'Migration20261227090000_PorterAllowedClusters';

  override up(): void | Promise<void> {
    this.addSql(`alter table "users" add column "allowed_clusters" text[] not null default '{}';`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "users" drop column "allowed_clusters";`);
  }

}
