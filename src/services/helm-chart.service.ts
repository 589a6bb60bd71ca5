import { GraphQLJSON } from '../util/json-scalars.js';
import { Field, ID, InputType } from 'type-graphql';
import { MAX_TAG_LENGTH, parseTag } from '../catalog/tag-format.js';
import { Cardinality } from '../deployments/chart-ext.js';
import { HelmChart, HelmRegistry, HelmTagFormat } from '../entities/index.js';
import { badInput, conflict } from '../errors/domain-error.js';
import { findVisible, requireSiteAdmin, requireSystem } from '../policy/permissions.js';
import type { ServiceContext } from '../request/context.js';
import { snapshot, type UnitOfWork } from './unit-of-work.js';
import { compact, optionalUuid } from '../request/where.js';
import { ReadService } from './read-service.js';
import { isJsonObject } from '../util/json.js';

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

@InputType({ description: 'A chart version pushed to a registry, with its chart-ext documents' })
export class RegisterHelmChartInput {
  @Field(() => ID) helmRegistryId!: string;
  @Field() imageDigest!: string;
  @Field({ description: 'parsed by the first tag format (oldest first) that matches all of it' }) imageTag!: string;
  @Field(() => GraphQLJSON, { nullable: true, description: 'an object with an inputs list, each input with a string id' }) valuesUi?: unknown;
  @Field(() => GraphQLJSON, { nullable: true }) actionsSchema?: unknown;
  @Field(() => GraphQLJSON, { nullable: true, description: 'an object; cardinality, if given, is Many or OnePerCluster' }) features?: unknown;
  @Field(() => GraphQLJSON, { nullable: true }) resourceTypes?: unknown;
  @Field(() => Boolean, { nullable: true, description: 'default true' }) available?: boolean | null;
}

/** A registration from chart discovery may also say why the chart could not be read. */
export type ChartRegistration = RegisterHelmChartInput & {
  /** why the chart's archive or documents could not be read: the chart is stored with it, unavailable */
  error?: string;
};

const given = (value: unknown) => value !== undefined && value !== null;

/** The chart-ext documents the API relies on later (inputs by id, cardinality), checked on the way in. */
function checkChartDocuments(input: RegisterHelmChartInput): void {
  if (given(input.features)) {
    if (!isJsonObject(input.features)) throw badInput('input.features', 'features must be an object');
    // v1beta1 documents nest the fields under spec
    const spec = isJsonObject(input.features.spec) ? input.features.spec : input.features;
    if (given(spec.cardinality) && !Object.values<unknown>(Cardinality).includes(spec.cardinality)) {
      throw badInput('input.features', `features.cardinality must be one of ${Object.values(Cardinality).join(', ')}`);
    }
  }
  if (given(input.valuesUi)) {
    const inputs = isJsonObject(input.valuesUi) ? input.valuesUi.inputs : undefined;
    if (!Array.isArray(inputs)) throw badInput('input.valuesUi', 'valuesUi must be an object with an inputs list');
    const bad = inputs.findIndex((i) => !isJsonObject(i) || typeof i.id !== 'string' || !i.id);
    if (bad >= 0) throw badInput('input.valuesUi', `valuesUi.inputs[${bad}] must be an object with a string id`);
  }
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
  constructor(private readonly uow: UnitOfWork) {
    super({
      entity: HelmChart,
      // newest first, as Platz lists them
      order: [{ field: 'createdAt', direction: 'DESC' }],
      where: async (f, ctx) => {
        const where = compact({
          helmRegistry: optionalUuid(f.helmRegistryId, 'helmRegistryId'),
          parsedBranch: f.parsedBranch,
        });
        const kindId = optionalUuid(f.kindId, 'kindId');
        const conditions: object[] = [where];
        if (kindId) conditions.push({ helmRegistry: { kind: kindId } });
        if (f.inUse !== undefined && f.inUse !== null) conditions.push({ id: { [f.inUse ? '$in' : '$nin']: await inUseIds(ctx) } });
        return { $and: conditions };
      },
    });
  }

  /**
   * Site admins (chart discovery acts as one): the tag is parsed by the tag formats, oldest first. A tag is
   * registered once per registry (CONFLICT).
   */
  register(ctx: ServiceContext, input: ChartRegistration): Promise<HelmChart> {
    return this.uow.mutation(ctx, 'registerHelmChart', async (tx, audit) => {
      const imageDigest = input.imageDigest.trim();
      if (!imageDigest || imageDigest.length > 255) throw badInput('input.imageDigest', 'imageDigest must be 1 to 255 characters');
      const imageTag = input.imageTag.trim();
      if (!imageTag || imageTag.length > MAX_TAG_LENGTH) throw badInput('input.imageTag', `imageTag must be 1 to ${MAX_TAG_LENGTH} characters`);
      checkChartDocuments(input);
      const helmRegistry = await findVisible(tx, HelmRegistry, input.helmRegistryId, 'input.helmRegistryId');
      await requireSiteAdmin(tx);
      if (await tx.em.findOne(HelmChart, { helmRegistry, imageTag })) throw conflict(`The tag ${imageTag} of this registry is already registered`);
      const formats = await tx.em.find(HelmTagFormat, {}, { orderBy: { createdAt: 'ASC', id: 'ASC' } });
      const match = parseTag(formats, imageTag);
      const chart = Object.assign(new HelmChart(), {
        helmRegistry,
        imageDigest,
        imageTag,
        valuesUi: input.valuesUi ?? null,
        actionsSchema: input.actionsSchema ?? null,
        features: input.features ?? null,
        resourceTypes: input.resourceTypes ?? null,
        error: input.error ?? null,
        available: input.error ? false : (input.available ?? true),
        tagFormat: match?.format ?? null,
        ...match?.parsed,
      });
      tx.em.persist(chart);
      audit({ targetType: 'HelmChart', targetId: chart.id, after: snapshot(chart) });
      return chart;
    });
  }

  /** Chart discovery: the tags of a registry already registered, which it does not fetch again. */
  async registeredTags(ctx: ServiceContext, helmRegistryId: string): Promise<Set<string>> {
    requireSystem(ctx);
    const charts = await ctx.em.find(HelmChart, { helmRegistry: helmRegistryId }, { fields: ['imageTag'] });
    return new Set(charts.map((c) => c.imageTag));
  }
}

async function inUseIds(ctx: ServiceContext): Promise<string[]> {
  const rows = await ctx.em.getConnection().execute<{ id: string }[]>(IN_USE_SQL);
  return rows.map((r) => r.id);
}
