import { isDeepStrictEqual } from 'node:util';
import { GraphQLJSON, GraphQLJSONObject } from '../util/json-scalars.js';
import { Field, InputType } from 'type-graphql';
import { reinstallEnabled } from '../deployments/tasks.js';
import { Bot, Deployment, Env, EnvApiKey, EnvUserPermission, User } from '../entities/index.js';
import { DeploymentStatus, EnvUserRole } from '../entities/enums.js';
import { badInput, conflict } from '../errors/domain-error.js';
import { findVisible, requireEnvAdmin, requireSiteAdmin } from '../policy/permissions.js';
import type { ServiceContext } from '../request/context.js';
import { assertNoDeployments } from './k8s-cluster.service.js';
import { snapshot, type UnitOfWork } from './unit-of-work.js';
import { compact, iEquals } from '../request/where.js';
import { ReadService } from './read-service.js';
import { isJsonObject } from '../util/json.js';

@InputType()
export class EnvFilter {
  @Field({ nullable: true, description: 'case-insensitive, exact' }) name?: string;
  @Field({ nullable: true }) autoAddNewUsers?: boolean;
}

@InputType()
export class CreateEnvInput {
  @Field({ description: '1 to 63 characters, unique case-insensitively' }) name!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => Boolean, { nullable: true, description: 'default false' }) autoAddNewUsers?: boolean | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'label → value; default {}' }) nodeSelector?: Record<string, unknown> | null;
  @Field(() => GraphQLJSON, { nullable: true, description: 'a list of Kubernetes tolerations; default []' }) tolerations?: unknown;
}

@InputType({ description: 'absent fields are left unchanged' })
export class UpdateEnvInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true, description: 'null clears it' }) description?: string | null;
  @Field(() => Boolean, { nullable: true }) autoAddNewUsers?: boolean | null;
  @Field(() => GraphQLJSONObject, { nullable: true }) nodeSelector?: Record<string, unknown> | null;
  @Field(() => GraphQLJSON, { nullable: true }) tolerations?: unknown;
}

/** An env's quotas (Storj's project limits), kept in Env.limits under these names; a limit not set is absent. */
export interface EnvLimits {
  /** bytes stored */
  storageLimit?: number;
  /** bytes downloaded a month */
  bandwidthLimit?: number;
  /** requests a second */
  rateLimit?: number;
  /** requests at once beyond the rate */
  burstLimit?: number;
  maxBuckets?: number;
  segmentLimit?: number;
}

const LIMIT_NAMES = ['storageLimit', 'bandwidthLimit', 'rateLimit', 'burstLimit', 'maxBuckets', 'segmentLimit'] as const;

/** The limits an env has set; anything else Env.limits holds (it is free-form JSON) is left out. */
export function envLimits(env: Env): EnvLimits {
  return Object.fromEntries(LIMIT_NAMES.flatMap((name) => (typeof env.limits[name] === 'number' ? [[name, env.limits[name]]] : [])));
}

/**
 * What puts an env in use (Storj's "usage for the current month"): deployments that are enabled and installed, or
 * being installed, upgraded or renamed. Failed, uninstalled and disabled ones use nothing.
 */
const IN_USE = [DeploymentStatus.Installing, DeploymentStatus.Renaming, DeploymentStatus.Upgrading, DeploymentStatus.Running];

type EnvFields = Partial<Pick<Env, 'name' | 'description' | 'autoAddNewUsers' | 'nodeSelector' | 'tolerations'>>;


/** The fields given, checked and normalized; absent ones are left out. Only description may be cleared. */
function envFields(input: UpdateEnvInput): EnvFields {
  const fields: EnvFields = {};
  const required = <K extends keyof UpdateEnvInput>(key: K) => {
    if (input[key] === null) throw badInput(`input.${key}`, `${key} cannot be null`);
    return input[key] !== undefined;
  };
  if (required('name')) {
    const name = input.name!.trim();
    if (name.length < 1 || name.length > 63) throw badInput('input.name', 'The env name must be 1 to 63 characters');
    fields.name = name;
  }
  if (input.description !== undefined) fields.description = input.description?.trim() || null;
  if (required('autoAddNewUsers')) fields.autoAddNewUsers = input.autoAddNewUsers!;
  if (required('nodeSelector')) {
    if (!Object.values(input.nodeSelector!).every((v) => typeof v === 'string')) {
      throw badInput('input.nodeSelector', 'nodeSelector must map labels to string values');
    }
    fields.nodeSelector = input.nodeSelector!;
  }
  if (required('tolerations')) {
    if (!Array.isArray(input.tolerations) || !input.tolerations.every(isJsonObject)) {
      throw badInput('input.tolerations', 'tolerations must be a list of toleration objects');
    }
    fields.tolerations = input.tolerations;
  }
  return fields;
}

async function assertNameFree(tx: ServiceContext, name: string, exceptId?: string): Promise<void> {
  const existing = await tx.em.findOne(Env, { name: iEquals(name), ...(exceptId ? { id: { $ne: exceptId } } : {}) });
  if (existing) throw conflict(`An env named "${existing.name}" already exists`);
}

export class EnvService extends ReadService<Env, EnvFilter> {
  constructor(private readonly uow: UnitOfWork) {
    super({
      entity: Env,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) => compact({ name: f.name ? iEquals(f.name) : undefined, autoAddNewUsers: f.autoAddNewUsers }),
    });
  }

  /**
   * Site admins only. Its owner, `ownerId` or else the creating user, becomes the env's Admin, so it can hand out roles
   * right away; with no owner, a creating bot does.
   */
  create(ctx: ServiceContext, input: CreateEnvInput, ownerId?: string): Promise<Env> {
    return this.uow.mutation(ctx, 'createEnv', async (tx, audit) => {
      const fields = envFields({
        ...input,
        autoAddNewUsers: input.autoAddNewUsers ?? false,
        nodeSelector: input.nodeSelector ?? {},
        tolerations: input.tolerations ?? [],
      });
      const { identity } = await requireSiteAdmin(tx);
      await assertNameFree(tx, fields.name!);
      const env = Object.assign(new Env(), fields);
      if (ownerId !== undefined) env.owner = await findVisible(tx, User, ownerId, 'ownerId');
      else if (identity.kind === 'user') env.owner = tx.em.getReference(User, identity.user.id);
      tx.em.persist(env);
      audit({ targetType: 'Env', targetId: env.id, envId: env.id, after: snapshot(env) });
      // a deployment identity is never a site admin, and Berth itself holds no roles
      const holder = env.owner ? { user: env.owner } : identity.kind === 'bot' ? { bot: tx.em.getReference(Bot, identity.bot.id) } : null;
      if (holder) {
        const permission = Object.assign(new EnvUserPermission(), { env, role: EnvUserRole.Admin, ...holder });
        tx.em.persist(permission);
        audit({ targetType: 'EnvUserPermission', targetId: permission.id, envId: env.id, after: snapshot(permission) });
      }
      return env;
    });
  }

  /** Env Admins; a new node selector or tolerations reinstall the env's enabled deployments, as in Platz. */
  update(ctx: ServiceContext, id: string, input: UpdateEnvInput): Promise<Env> {
    return this.uow.mutation(ctx, 'updateEnv', async (tx, audit) => {
      const fields = envFields(input);
      const env = await findVisible(tx, Env, id);
      await requireEnvAdmin(tx, env.id);
      if (fields.name !== undefined) await assertNameFree(tx, fields.name, env.id);
      const before = snapshot(env);
      const scheduling =
        (fields.nodeSelector !== undefined && !isDeepStrictEqual(fields.nodeSelector, env.nodeSelector)) ||
        (fields.tolerations !== undefined && !isDeepStrictEqual(fields.tolerations, env.tolerations));
      Object.assign(env, fields);
      if (scheduling) {
        const deployments = await tx.em.find(Deployment, { cluster: { env: env.id } }, { orderBy: { createdAt: 'ASC', id: 'ASC' } });
        reinstallEnabled(tx, deployments, `Env ${env.name} updated`);
      }
      audit({ targetType: 'Env', targetId: env.id, envId: env.id, before, after: snapshot(env) });
      return env;
    });
  }

  /** The envs a user owns that the caller may see, oldest first. */
  ownedBy(ctx: ServiceContext, userId: string): Promise<Env[]> {
    return this.findWhere(ctx, { owner: userId });
  }

  /** The deployments that put an env in use (IN_USE), oldest first; NOT_FOUND for an env the caller may not see. */
  async deploymentsInUse(ctx: ServiceContext, id: string): Promise<Deployment[]> {
    const env = await findVisible(ctx, Env, id);
    return ctx.em.find(Deployment, { cluster: { env: env.id }, enabled: true, status: { $in: IN_USE } }, { populate: ['kind', 'cluster'], orderBy: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** Site admins (a quota is not for its env's Admins to raise); limits left undefined stay as they are. */
  setLimits(ctx: ServiceContext, id: string, limits: EnvLimits): Promise<Env> {
    return this.uow.mutation(ctx, 'setEnvLimits', async (tx, audit) => {
      for (const [name, value] of Object.entries(limits)) {
        if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) throw badInput(`limits.${name}`, `limits.${name} must be a whole number, not negative`);
      }
      const env = await findVisible(tx, Env, id);
      await requireSiteAdmin(tx);
      const before = snapshot(env);
      env.limits = { ...env.limits, ...compact({ ...limits }) };
      audit({ targetType: 'Env', targetId: env.id, envId: env.id, before, after: snapshot(env) });
      return env;
    });
  }

  /** Site admins, once no API key and no deployment is left in the env's clusters; the clusters stay, outside any env. */
  delete(ctx: ServiceContext, id: string): Promise<string> {
    // the foreign keys detach its clusters (ON DELETE SET NULL) and take its permissions and secrets (CASCADE)
    return this.uow.deleteVisible(
      ctx,
      'deleteEnv',
      Env,
      id,
      async (tx, env) => {
        await requireSiteAdmin(tx);
        const keys = await tx.em.count(EnvApiKey, { env: env.id });
        if (keys) throw conflict(`Env "${env.name}" still has API keys: ${keys}`);
        await assertNoDeployments(tx, { cluster: { env: env.id } }, `Env "${env.name}"`);
      },
      (env) => env.id,
    );
  }
}
