import { Migration } from '@mikro-orm/migrations';

export class Migration20261210090000_KubportalProvisioning extends Migration {

  override name = 'Migration20261210090000_KubportalProvisioning';

  override up(): void | Promise<void> {
    this.addSql(`alter table "users" add "k8s_token_encrypted" text null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "users" drop column "k8s_token_encrypted";`);
  }

}
