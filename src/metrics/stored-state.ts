import type { SqlEntityManager } from '@mikro-orm/sql';
import { headCursor } from '../events/event-log.js';

/**
 * What the database says, read at each scrape: the same on every replica (aggregate with max, not sum). Counts
 * grouped by names, statuses and kinds only, never by id; each statement a grouped count over an index or a small table.
 */
export interface StoredState {
  /** the newest cursor in the event log */
  head: number;
  clusters: { name: string; ignore: boolean; isOk: boolean }[];
  /** mirrored Kubernetes objects by cluster name and kind */
  mirrored: { cluster: string; kind: string; count: number }[];
  tasksByStatus: { status: string; count: number }[];
  /** Pending tasks whose time has come, Pending ones scheduled later, Started ones */
  taskQueue: { due: number; scheduled: number; running: number };
  deployments: { kind: string; status: string; cluster: string; count: number }[];
}

export async function readStoredState(em: SqlEntityManager): Promise<StoredState> {
  const rows = <T extends object>(sql: string) => em.getConnection().execute<T[]>(sql);
  // one after another: a scrape takes one pooled connection at a time
  const head = await headCursor(em);
  const clusters = await rows<{ name: string; ignore: boolean; is_ok: boolean }>('select name, ignore, is_ok from k8s_clusters');
  const mirrored = await rows<{ cluster: string; kind: string; count: number }>(
    'select c.name as cluster, r.kind, count(*)::int as count from k8s_resources r join k8s_clusters c on c.id = r.cluster_id group by c.name, r.kind',
  );
  const tasksByStatus = await rows<{ status: string; count: number }>('select status::text as status, count(*)::int as count from deployment_tasks group by status');
  const [queue] = await rows<{ due: number; scheduled: number; running: number }>(
    `select count(*) filter (where status = 'Pending' and execute_at <= now())::int as due,
            count(*) filter (where status = 'Pending' and execute_at > now())::int as scheduled,
            count(*) filter (where status = 'Started')::int as running
       from deployment_tasks where status in ('Pending', 'Started')`,
  );
  const deployments = await rows<{ kind: string; status: string; cluster: string; count: number }>(
    `select k.name as kind, d.status::text as status, c.name as cluster, count(*)::int as count
       from deployments d join deployment_kinds k on k.id = d.kind_id join k8s_clusters c on c.id = d.cluster_id
      group by k.name, d.status, c.name`,
  );
  return {
    head,
    clusters: clusters.map((c) => ({ name: c.name, ignore: c.ignore, isOk: c.is_ok })),
    mirrored,
    tasksByStatus,
    taskQueue: queue ?? { due: 0, scheduled: 0, running: 0 },
    deployments,
  };
}
