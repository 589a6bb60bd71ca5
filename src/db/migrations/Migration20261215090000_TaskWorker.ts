import { Migration } from '@mikro-orm/migrations';

/**
 * The task worker's lease: which worker runs a Started task, and until when before another may take it. Renewing a
 * lease changes nothing anyone sees, so it writes no change event (the update trigger ignores both columns).
 */
export class Migration20261215090000_TaskWorker extends Migration {

  override name = 'Migration20261215090000_TaskWorker';

  override up(): void | Promise<void> {
    this.addSql(`alter table "deployment_tasks" add "claimed_by" text null, add "lease_expires_at" timestamptz null;`);
    this.addSql(`drop trigger if exists berth_event_deployment_tasks_update on "deployment_tasks";`);
    this.addSql(`create trigger berth_event_deployment_tasks_update after update on "deployment_tasks" for each row
      when ((to_jsonb(OLD) - 'claimed_by' - 'lease_expires_at') is distinct from (to_jsonb(NEW) - 'claimed_by' - 'lease_expires_at'))
      execute function berth_event_deployment_tasks();`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop trigger if exists berth_event_deployment_tasks_update on "deployment_tasks";`);
    this.addSql(`create trigger berth_event_deployment_tasks_update after update on "deployment_tasks" for each row
      when (to_jsonb(OLD) is distinct from to_jsonb(NEW)) execute function berth_event_deployment_tasks();`);
    this.addSql(`alter table "deployment_tasks" drop column "claimed_by", drop column "lease_expires_at";`);
  }

}
