import { Migration } from '@mikro-orm/migrations';

/** One chart per tag of a registry: replicas discovering the same tag at once write it once. */
export class Migration20261216090000_ChartDiscovery extends Migration {

  override name = 'Migration20261216090000_ChartDiscovery';

  override up(): void | Promise<void> {
    this.addSql(`alter table "helm_charts" add constraint "helm_charts_helm_registry_id_image_tag_unique" unique ("helm_registry_id", "image_tag");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "helm_charts" drop constraint "helm_charts_helm_registry_id_image_tag_unique";`);
  }

}
