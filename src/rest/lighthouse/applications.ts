import { z } from 'zod';
import type { ApplicationSpec, Step, StepInstance, TaskEnd } from '../../services/application.service.js';
import type { RequestContext } from '../../services/index.js';
import { JsonLines, restRoute } from '../routes.js';
import { lighthouseSchemas } from './schemas.js';

const TAG = 'Applications';

/** Where a step's task can be read in Platz's API (Endpoint, in a progress line). */
const TASK_ENDPOINT = '/api/v2/deployment-tasks/';
/** Lighthouse kept the first 80 bytes of an instance's answer */
const MESSAGE_LENGTH = 80;

/** Go's strconv.ParseBool, as Lighthouse read its boolean query parameters. */
const GoBoolean = z
  .enum(['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False'])
  .transform((value) => ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value));

const Command = z
  .object({ Image: z.string().min(1).describe('the Helm chart: `<registry>/<repository>:<tag>`, as Berth\'s catalog has it') })
  .catchall(z.unknown())
  .describe("Docker's create-container fields in Lighthouse; here `Image` picks the chart and every other field is the deployments' config");
lighthouseSchemas.add(Command, { id: 'Command' });

/** Lighthouse's `{Id}`: an application's number, or its name. */
const IdParams = z.object({ Id: z.string().min(1).describe("the application's number (Id), or its name") });

const Instances = z.array(z.string().min(1)).describe('beacon addresses: the clusters the application runs in');

const ApplicationJson = z.object({
  Id: z.number().int(),
  CurrentDeployment: z.number().int().nullable().describe('the Id of the version its instances run now; null before anything was installed'),
  Name: z.string(),
  Instances,
});
lighthouseSchemas.add(ApplicationJson, { id: 'Application' });

const DeploymentJson = z.object({
  Id: z.number().int().describe('a revert target'),
  Creator: z.string().nullable().describe('who first deployed this version (an email)'),
  Date: z.iso.datetime(),
  Image: z.string(),
  Command,
  Version: z.number().int().describe('1 for the first version'),
});
lighthouseSchemas.add(DeploymentJson, { id: 'Deployment' });

const ProgressLine = z
  .object({
    Status: z.enum(['Starting', 'OK', 'Warning', 'Error', 'Complete', 'Finalized']),
    Method: z.string().describe("the task's operation (Install, Upgrade, Uninstall); empty when none was needed"),
    Endpoint: z.string().describe('where the task is read in Platz\'s API (`/api/v2/deployment-tasks/{id}`)'),
    Message: z.string().describe('the step (Starting, Complete) or what came of the instance, at most 80 characters and …'),
    Code: z.number().int().describe('200 done, 304 nothing to do, 401 the caller was deactivated, 404 the task went with its deployment, 409 canceled, 500 failed, 504 not finished in time'),
    Instance: z.string(),
    Item: z.number().int().describe("the instance's index in the step; Total on Complete"),
    Total: z.number().int().describe('instances in the step'),
  })
  .meta({ description: 'One line of a progress stream; the last is always `{"Status":"Finalized", …}` with empty values' });
lighthouseSchemas.add(ProgressLine, { id: 'ProgressLine' });

type Line = z.input<typeof ProgressLine>;

const BLANK: Line = { Status: 'Finalized', Method: '', Endpoint: '', Message: '', Code: 0, Instance: '', Item: 0, Total: 0 };

const toSpec = ({ Image, ...config }: z.output<typeof Command>): ApplicationSpec => ({ image: Image, config });

const brief = (text: string) => (text.length > MESSAGE_LENGTH ? `${text.slice(0, MESSAGE_LENGTH)}…` : text);

const END_LINES: Record<Exclude<TaskEnd['status'], 'Gone'>, Pick<Line, 'Status' | 'Code'>> = {
  Done: { Status: 'OK', Code: 200 },
  Failed: { Status: 'Error', Code: 500 },
  Canceled: { Status: 'Error', Code: 409 },
  TimedOut: { Status: 'Error', Code: 504 },
  Revoked: { Status: 'Error', Code: 401 },
};

/**
 * How a task's end reads: a task gone with its deployment is an Uninstall done (the deployment is deleted once its
 * namespace is gone), else a Warning 404, as Lighthouse's for a container that was not there.
 */
function endLine(end: TaskEnd, operation: string): Pick<Line, 'Status' | 'Code' | 'Message'> {
  if (end.status !== 'Gone') return { ...END_LINES[end.status], Message: brief(end.reason ?? end.status) };
  return operation === 'Uninstall' ? { Status: 'OK', Code: 200, Message: 'Uninstalled, and the deployment deleted' } : { Status: 'Warning', Code: 404, Message: 'The task is gone, with its deployment' };
}

/** An instance's line: how its task ended, or why it needed none. */
function instanceLine(instance: StepInstance, item: number, total: number, end: TaskEnd | undefined): Line {
  const where = { Instance: instance.instance, Item: item, Total: total };
  if (!instance.task) return { ...BLANK, ...where, Status: instance.warning ? 'Warning' : 'OK', Code: instance.warning ? 304 : 200, Message: instance.note ?? '' };
  return { ...where, ...endLine(end!, instance.task.operation), Method: instance.task.operation, Endpoint: `${TASK_ENDPOINT}${instance.task.id}` };
}

/**
 * Lighthouse's progress stream of a request's steps, fed by its tasks as the worker ends them: per step a Starting
 * line, a line per instance as its task ends (in that order), a Complete line; always a Finalized line last. A client
 * that goes away stops the following (its tasks go on).
 */
function progress(ctx: RequestContext, steps: Step[]): JsonLines {
  const lines = new JsonLines();
  const gone = new AbortController();
  lines.on('close', () => gone.abort());
  const ends = new Map<string, TaskEnd>();
  let arrived = () => {};
  const taskIds = steps.flatMap((s) => s.instances.flatMap((i) => (i.task ? [i.task.id] : [])));
  const following = ctx.services.applications.follow(ctx, taskIds, gone.signal, (end) => {
    ends.set(end.taskId, end);
    arrived();
  });
  void (async () => {
    for (const step of steps) {
      const total = step.instances.length;
      lines.line({ ...BLANK, Status: 'Starting', Message: step.action, Total: total });
      const pending = new Map(step.instances.map((instance, item) => [item, instance]));
      while (pending.size && !gone.signal.aborted) {
        for (const [item, instance] of pending) {
          if (instance.task && !ends.has(instance.task.id)) continue;
          lines.line(instanceLine(instance, item, total, instance.task ? ends.get(instance.task.id) : undefined));
          pending.delete(item);
        }
        // the next end, or none to come (all ended, or the client went away)
        if (pending.size) await Promise.race([new Promise<void>((resolve) => (arrived = resolve)), following]);
      }
      lines.line({ ...BLANK, Status: 'Complete', Message: step.action, Item: total, Total: total });
    }
  })()
    // after the status went out, a failure can only be a line of the stream
    .catch(() => lines.line({ ...BLANK, Status: 'Error', Code: 500, Message: 'Internal server error' }))
    .finally(() => {
      lines.line(BLANK);
      lines.end();
    });
  return lines;
}

/** A streaming route's common parts: its answer is progress lines (it refuses before streaming only). */
const streaming = { tag: TAG, lines: true as const, response: ProgressLine };

const ForcePull = GoBoolean.optional().describe('accepted and ignored: Berth pulls nothing, a chart release pulls what its values say');

export const applicationRoutes = [
  restRoute({
    ...streaming,
    method: 'POST',
    url: '/applications/create',
    summary: 'Create an application: one deployment per instance, of the chart its Command names',
    description:
      "Kind Owner in every instance's env. Each instance is installed (start=true), or created stopped (a disabled deployment). The stream follows the Install tasks. 400 for a name that is taken, not a DNS-1123 label, an image that names no chart, an unknown instance.",
    query: z.object({ start: GoBoolean.optional().describe('install it now (default false, as Lighthouse)'), forcePull: ForcePull }),
    body: z.object({ Name: z.string().min(1), Command, Instances: Instances.min(1) }),
    handle: async (ctx, { query, body }) =>
      progress(ctx, await ctx.services.applications.create(ctx, { name: body.Name, spec: toSpec(body.Command), instances: body.Instances, start: query.start ?? false })),
  }),
  restRoute({
    ...streaming,
    method: 'POST',
    url: '/applications/start/:Id',
    summary: 'Start an application: every instance enabled (installed)',
    description: 'Maintainer of every instance. An instance already started is a Warning line.',
    params: IdParams,
    handle: async (ctx, { params }) => progress(ctx, await ctx.services.applications.setRunning(ctx, params.Id, true)),
  }),
  restRoute({
    ...streaming,
    method: 'POST',
    url: '/applications/stop/:Id',
    summary: 'Stop an application: every instance disabled (uninstalled)',
    description: 'Maintainer of every instance. An instance already stopped is a Warning line.',
    params: IdParams,
    handle: async (ctx, { params }) => progress(ctx, await ctx.services.applications.setRunning(ctx, params.Id, false)),
  }),
  ...(['PUT', 'POST'] as const).map((method) =>
    restRoute({
      ...streaming,
      method,
      url: '/applications/revert/:Id',
      summary: `Revert an application to an earlier version${method === 'POST' ? " (the wiki's method)" : ''}`,
      description:
        'Maintainer of every instance. target ≥ 0 is a version Id (404 unknown, 400 of another application); target < 0 (default -1) goes back that many versions from the current one (400 if there are not so many). Running instances are upgraded to it, stopped ones keep it for their next start.',
      params: IdParams,
      query: z.object({ target: z.coerce.number().int().default(-1).describe('a version Id, or minus how many versions to go back'), forcePull: ForcePull }),
      handle: async (ctx, { params, query }) => progress(ctx, await ctx.services.applications.revert(ctx, params.Id, query.target)),
    }),
  ),
  restRoute({
    ...streaming,
    method: 'PUT',
    url: '/applications/update/:Id',
    summary: 'Update an application: a new Command, instances added or removed, a restart',
    description:
      'Maintainer of every instance (Kind Owner to add or remove one). Remove deletes those instances; a Command upgrades the others; restart=true starts them all; Add deploys the application to more clusters, running if it runs (or restart=true). 400 with nothing to update, or an instance to remove that is not one of it.',
    params: IdParams,
    query: z.object({ restart: GoBoolean.optional().describe('start every instance') }),
    body: z.object({ Command: Command.optional(), Add: Instances.optional(), Remove: Instances.optional() }),
    handle: async (ctx, { params, query, body }) =>
      progress(ctx, await ctx.services.applications.update(ctx, params.Id, { spec: body.Command && toSpec(body.Command), add: body.Add, remove: body.Remove, restart: query.restart })),
  }),
  restRoute({
    method: 'GET',
    url: '/applications/list',
    tag: TAG,
    summary: 'The applications the caller sees an instance of',
    response: z.array(ApplicationJson),
    handle: async (ctx) =>
      (await ctx.services.applications.list(ctx)).map((app) => ({ Id: app.number, CurrentDeployment: app.current, Name: app.name, Instances: app.instances })),
  }),
  restRoute({
    method: 'GET',
    url: '/applications/list/:Id',
    tag: TAG,
    summary: "An application's versions, newest first",
    description: '`[]` for an application the caller sees no instance of, as for one that does not exist.',
    params: IdParams,
    query: z.object({ count: z.coerce.number().int().min(0).optional().describe('at most this many') }),
    response: z.array(DeploymentJson),
    handle: async (ctx, { params, query }) =>
      (await ctx.services.applications.history(ctx, params.Id, query.count)).map((v) => ({
        Id: v.number,
        Creator: v.creator,
        Date: v.date.toISOString(),
        Image: v.image,
        Command: { Image: v.image, ...v.config },
        Version: v.version,
      })),
  }),
];
