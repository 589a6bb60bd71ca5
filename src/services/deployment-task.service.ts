import { Field, ID, InputType } from 'type-graphql';
import { DeploymentTask } from '../entities/index.js';
import { DeploymentTaskStatus } from '../entities/enums.js';
import { compact, optionalUuid, ReadService } from './read-service.js';

@InputType()
export class DeploymentTaskFilter {
  @Field(() => ID, { nullable: true }) clusterId?: string;
  @Field(() => ID, { nullable: true }) deploymentId?: string;
  @Field(() => ID, { nullable: true, description: "the task cluster's env" }) envId?: string;
  @Field({ nullable: true, description: 'only Pending or Started tasks' }) activeOnly?: boolean;
  @Field({ nullable: true, description: 'false keeps only tasks due now or earlier (default true)' }) showFuture?: boolean;
  @Field({ nullable: true, description: 'created at or after' }) createdFrom?: Date;
  @Field(() => DeploymentTaskStatus, { nullable: true }) status?: DeploymentTaskStatus;
}

export class DeploymentTaskService extends ReadService<DeploymentTask, DeploymentTaskFilter> {
  constructor() {
    super({
      entity: DeploymentTask,
      // latest due first, as Platz lists them
      order: [{ field: 'executeAt', direction: 'DESC' }],
      where: (f) => {
        const envId = optionalUuid(f.envId, 'filter.envId');
        const clusterId = optionalUuid(f.clusterId, 'filter.clusterId');
        const conditions: object[] = [
          compact({
            cluster: envId ? { env: envId, ...compact({ id: clusterId }) } : clusterId,
            deployment: optionalUuid(f.deploymentId, 'filter.deploymentId'),
            status: f.status,
            createdAt: f.createdFrom ? { $gte: f.createdFrom } : undefined,
            executeAt: f.showFuture === false ? { $lte: new Date() } : undefined,
          }),
        ];
        if (f.activeOnly) conditions.push({ status: { $in: [DeploymentTaskStatus.Pending, DeploymentTaskStatus.Started] } });
        return { $and: conditions };
      },
    });
  }
}
