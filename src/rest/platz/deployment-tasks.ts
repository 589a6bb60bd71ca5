import { z } from 'zod';
import type { DeploymentTask } from '../../entities/index.js';
import { DeploymentTaskStatus } from '../../entities/enums.js';
import { forbidden } from '../../errors/domain-error.js';
import type { CreateDeploymentTaskInput } from '../../services/deployment-task.service.js';
import { found, restRoute } from '../routes.js';
import { IdParams, PageQuery, pageOf, platzSchemas, QueryBoolean, readPage, rowJson, Timestamp, Uuid } from './schemas.js';

const TAG = 'Deployment tasks';

/** Platz cancels only tasks at least this far ahead of their execute_at. */
const CANCEL_LEAD_MS = 5 * 60_000;

/** A timestamp a client sends: RFC 3339, in UTC or with an offset (Platz reads either). */
const InputTimestamp = z.iso.datetime({ offset: true }).transform((value) => new Date(value));

/** Platz's DeploymentTaskOperation, externally tagged: exactly one of these keys, its fields inside. */
const DeploymentTaskOperationJson = z
  .union([
    z.strictObject({ Install: z.object({ helm_chart_id: z.guid(), config_inputs: z.unknown(), values_override: z.unknown() }) }),
    z.strictObject({
      Upgrade: z.object({
        helm_chart_id: z.guid(),
        prev_helm_chart_id: z.guid().nullable(),
        config_inputs: z.unknown(),
        config_delta: z.unknown().describe('dotted path → [old, new]; null when not computed'),
        values_override: z.unknown(),
      }),
    }),
    z.strictObject({ Reinstall: z.object({ reason: z.string() }) }),
    z.strictObject({ Recreate: z.object({ old_cluster_id: z.guid(), old_namespace: z.string(), new_cluster_id: z.guid(), new_namespace: z.string() }) }),
    z.strictObject({ Uninstall: z.object({}) }),
    z.strictObject({ InvokeAction: z.object({ helm_chart_id: z.guid(), action_id: z.string(), body: z.unknown() }) }),
    z.strictObject({ RestartK8sResource: z.object({ resource_id: z.guid(), resource_name: z.string() }) }),
  ])
  .describe('externally tagged: {"Install": {...}}');
platzSchemas.add(DeploymentTaskOperationJson, { id: 'DeploymentTaskOperation' });

const DeploymentTaskJson = z.object({
  id: z.guid(),
  created_at: Timestamp,
  execute_at: Timestamp,
  first_attempted_at: Timestamp.nullable(),
  started_at: Timestamp.nullable(),
  finished_at: Timestamp.nullable(),
  cluster_id: z.guid(),
  deployment_id: z.guid(),
  acting_user_id: z.guid().nullable(),
  acting_deployment_id: z.guid().nullable(),
  canceled_by_user_id: z.guid().nullable(),
  canceled_by_deployment_id: z.guid().nullable(),
  operation: DeploymentTaskOperationJson,
  status: z.enum(DeploymentTaskStatus),
  reason: z.string().nullable(),
});
platzSchemas.add(DeploymentTaskJson, { id: 'DeploymentTask' });

const time = (date: Date | null | undefined) => date?.toISOString() ?? null;

const taskJson = (t: DeploymentTask): z.input<typeof DeploymentTaskJson> => ({
  ...rowJson(t),
  execute_at: t.executeAt.toISOString(),
  first_attempted_at: time(t.firstAttemptedAt),
  started_at: time(t.startedAt),
  finished_at: time(t.finishedAt),
  cluster_id: t.cluster.id,
  deployment_id: t.deployment.id,
  acting_user_id: t.actingUser?.id ?? null,
  acting_deployment_id: t.actingDeployment?.id ?? null,
  canceled_by_user_id: t.canceledByUser?.id ?? null,
  canceled_by_deployment_id: t.canceledByDeployment?.id ?? null,
  operation: t.operation as z.input<typeof DeploymentTaskOperationJson>,
  status: t.status,
  reason: t.reason ?? null,
});

const CreateTaskBody = z.object({
  deployment_id: Uuid,
  operation: DeploymentTaskOperationJson.describe('InvokeAction or RestartK8sResource; the others are created by Berth itself'),
  execute_at: InputTimestamp.optional().describe('schedules the task (default now)'),
});

/** The service's input for the two operations a client may ask for; the others are 403, in Platz's words. */
function createInput(body: z.output<typeof CreateTaskBody>): CreateDeploymentTaskInput {
  const base = { deploymentId: body.deployment_id, executeAt: body.execute_at ?? null };
  const operation = body.operation;
  if ('InvokeAction' in operation) {
    const { helm_chart_id, action_id, body: actionBody } = operation.InvokeAction;
    return { ...base, invokeAction: { helmChartId: helm_chart_id, actionId: action_id, body: actionBody } };
  }
  if ('RestartK8sResource' in operation) {
    const { resource_id, resource_name } = operation.RestartK8sResource;
    return { ...base, restartK8sResource: { resourceId: resource_id, resourceName: resource_name } };
  }
  throw forbidden(`${Object.keys(operation)[0]} tasks can't be created through the API`);
}

export const deploymentTaskRoutes = [
  restRoute({
    method: 'GET',
    url: '/deployment-tasks',
    tag: TAG,
    summary: 'The deployment tasks the caller may see',
    description: 'Tasks of the deployments the caller may see. Latest execute_at first.',
    query: PageQuery.extend({
      cluster_id: Uuid.optional(),
      deployment_id: Uuid.optional(),
      active_only: QueryBoolean.optional().describe('only Pending or Started tasks'),
      show_future: QueryBoolean.optional().describe('false keeps only tasks due now or earlier (default true)'),
      created_from: InputTimestamp.optional().describe('created at or after'),
      env_id: Uuid.optional().describe("the task cluster's env"),
    }),
    response: pageOf(DeploymentTaskJson),
    handle: (ctx, { query }) =>
      readPage(
        ctx,
        ctx.services.deploymentTasks,
        {
          clusterId: query.cluster_id,
          deploymentId: query.deployment_id,
          activeOnly: query.active_only,
          showFuture: query.show_future,
          createdFrom: query.created_from,
          envId: query.env_id,
        },
        query,
        taskJson,
      ),
  }),
  restRoute({
    method: 'GET',
    url: '/deployment-tasks/:id',
    tag: TAG,
    summary: 'One deployment task',
    description: 'A task the caller may not see is not found, as a missing one.',
    params: IdParams,
    response: DeploymentTaskJson,
    handle: async (ctx, { params }) => taskJson(await found(ctx.services.deploymentTasks.findById(ctx, params.id), 'DeploymentTask')),
  }),
  restRoute({
    method: 'POST',
    url: '/deployment-tasks',
    tag: TAG,
    summary: 'Invoke a chart action, or restart a K8s resource',
    description:
      "Maintainers of the deployment, and the deployment itself. InvokeAction's helm_chart_id must be the deployment's current chart (409 otherwise); RestartK8sResource's resource one of the deployment's. Other operations are 403. The task acts for the caller.",
    body: CreateTaskBody,
    status: 201,
    response: DeploymentTaskJson,
    handle: async (ctx, { body }) => taskJson(await ctx.services.deploymentTasks.create(ctx, createInput(body))),
  }),
  restRoute({
    method: 'DELETE',
    url: '/deployment-tasks/:id',
    tag: TAG,
    summary: 'Cancel a deployment task',
    description:
      'The identity the task acts for, Admins of its env and site admins; a Pending task (409 otherwise) at least 5 minutes before its execute_at (403 otherwise). Answers the canceled task.',
    params: IdParams,
    body: z.object({ reason: z.string().nullable().optional().describe('why, kept as the task\'s reason') }),
    response: DeploymentTaskJson,
    handle: async (ctx, { params, body }) => taskJson(await ctx.services.deploymentTasks.cancel(ctx, params.id, body.reason, { leadMs: CANCEL_LEAD_MS })),
  }),
];
