import { Field, ID, InputType } from 'type-graphql';
import { HelmChart } from '../entities/index.js';
import type { ServiceContext } from './context.js';
import { compact, optionalUuid, ReadService } from './read-service.js';

@InputType()
export class HelmChartFilter {
  @Field(() => ID, { nullable: true }) helmRegistryId?: string;
  @Field({ nullable: true, description: 'exact' }) parsedBranch?: string;
  @Field(() => ID, { nullable: true, description: "the registry's deployment kind" }) kindId?: string;
  @Field({
    nullable: true,
    description: 'true: charts used by a deployment, plus the newest chart of every (registry, branch) that has one in use',
  })
  inUse?: boolean;
}

/** Platz's in_use rule as one statement returning ids. */
const IN_USE_SQL = `
  with used as (select distinct helm_chart_id as id from deployments),
       used_branches as (select distinct c.helm_registry_id, c.parsed_branch from helm_charts c join used u on u.id = c.id),
       newest as (
         select distinct on (c.helm_registry_id, c.parsed_branch) c.id
         from helm_charts c
         join used_branches b on b.helm_registry_id = c.helm_registry_id and b.parsed_branch is not distinct from c.parsed_branch
         order by c.helm_registry_id, c.parsed_branch, c.created_at desc, c.id desc)
  select id from used union select id from newest`;

export class HelmChartService extends ReadService<HelmChart, HelmChartFilter> {
  constructor() {
    super({
      entity: HelmChart,
      // newest first, as Platz lists them
      order: [{ field: 'createdAt', direction: 'DESC' }],
      where: async (f, ctx) => {
        const where = compact({
          helmRegistry: optionalUuid(f.helmRegistryId, 'filter.helmRegistryId'),
          parsedBranch: f.parsedBranch,
        });
        const kindId = optionalUuid(f.kindId, 'filter.kindId');
        const conditions: object[] = [where];
        if (kindId) conditions.push({ helmRegistry: { kind: kindId } });
        if (f.inUse !== undefined && f.inUse !== null) conditions.push({ id: { [f.inUse ? '$in' : '$nin']: await inUseIds(ctx) } });
        return { $and: conditions };
      },
    });
  }
}

async function inUseIds(ctx: ServiceContext): Promise<string[]> {
  const rows = await ctx.em.getConnection().execute<{ id: string }[]>(IN_USE_SQL);
  return rows.map((r) => r.id);
}
