import { Field, ID, InputType } from 'type-graphql';
import { K8sResource } from '../entities/index.js';
import { compact, iEquals, optionalUuid } from '../request/where.js';
import type { MirrorBatch } from '../k8s/mirrored-object.js';
import { requireSystem } from '../policy/permissions.js';
import type { ServiceContext } from '../request/context.js';
import { ReadService } from './read-service.js';
import type { UnitOfWork } from './unit-of-work.js';

@InputType()
export class K8sResourceFilter {
  @Field(() => ID, { nullable: true }) clusterId?: string;
  @Field(() => ID, { nullable: true }) deploymentId?: string;
  @Field({ nullable: true, description: 'case-insensitive, exact' }) kind?: string;
  @Field({ nullable: true, description: 'case-insensitive, exact' }) name?: string;
}

export class K8sResourceService extends ReadService<K8sResource, K8sResourceFilter> {
  constructor(private readonly uow: UnitOfWork) {
    super({
      entity: K8sResource,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) =>
        compact({
          cluster: optionalUuid(f.clusterId, 'clusterId'),
          deployment: optionalUuid(f.deploymentId, 'deploymentId'),
          kind: f.kind ? iEquals(f.kind) : undefined,
          name: f.name ? iEquals(f.name) : undefined,
        }),
    });
  }

  /**
   * Berth's cluster watch writes what a cluster runs: one transaction per batch, one statement per part (so a
   * burst of watch events costs a few transactions), rows that did not change left alone (a relist writes no
   * event for them). Not audited: the rows are what the cluster says, and their changes are in the event log.
   */
  mirror(ctx: ServiceContext, clusterId: string, batch: MirrorBatch): Promise<void> {
    return this.uow.run(ctx, async (tx) => {
      requireSystem(tx);
      const sql = (query: string, params: unknown[]) => tx.em.getConnection().execute(query, params, 'run', tx.em.getTransactionContext());
      // a mirror batch lost in a crash is listed again when the watch restarts: its commit need not wait for the disk
      await sql('set local synchronous_commit = off', []);
      if (batch.upserts.length) {
        const rows = batch.upserts.map((o) => ({
          id: o.id,
          deployment_id: o.deploymentId,
          kind: o.kind,
          api_version: o.apiVersion,
          name: o.name,
          status_color: o.statusColor,
          metadata: o.metadata,
        }));
        await sql(
          `insert into k8s_resources (id, cluster_id, deployment_id, kind, api_version, name, status_color, metadata, last_updated_at)
           select r.id, c.id, d.id, r.kind, r.api_version, r.name, r.status_color, r.metadata, now()
           from jsonb_to_recordset(?::jsonb) as r(id uuid, deployment_id uuid, kind text, api_version text, name text, status_color text[], metadata jsonb)
           -- a cluster deleted while its watch was stopping takes nothing more
           join k8s_clusters c on c.id = ?
           left join deployments d on d.id = r.deployment_id
           on conflict (id) do update set
             deployment_id = excluded.deployment_id, kind = excluded.kind, api_version = excluded.api_version, name = excluded.name,
             status_color = excluded.status_color, metadata = excluded.metadata, last_updated_at = excluded.last_updated_at
           -- a uid is one cluster's; a row that did not change is left alone
           where k8s_resources.cluster_id = excluded.cluster_id
             and (k8s_resources.deployment_id, k8s_resources.name, k8s_resources.status_color, k8s_resources.metadata)
               is distinct from (excluded.deployment_id, excluded.name, excluded.status_color, excluded.metadata)`,
          [JSON.stringify(rows), clusterId],
        );
      }
      if (batch.deletes.length) {
        await sql(`delete from k8s_resources where cluster_id = ? and id in (select value::uuid from jsonb_array_elements_text(?::jsonb))`, [
          clusterId,
          JSON.stringify(batch.deletes),
        ]);
      }
      for (const { kind, ids } of batch.relisted) {
        await sql(`delete from k8s_resources where cluster_id = ? and kind = ? and id not in (select value::uuid from jsonb_array_elements_text(?::jsonb))`, [
          clusterId,
          kind,
          JSON.stringify(ids),
        ]);
      }
    });
  }
}
