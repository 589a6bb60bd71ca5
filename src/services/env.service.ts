import { isDeepStrictEqual } from 'node:util';
import { GraphQLJSON, GraphQLJSONObject } from '../util/json-scalars.js';
import { Field, InputType } from 'type-graphql';
import { reinstallEnabled } from '../deployments/tasks.js';
import { Bot, Deployment, Env, EnvUserPermission, User } from '../entities/index.js';
import { EnvUserRole } from '../entities/enums.js';
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

  /** Site admins only; the creator becomes the env's Admin, so it can hand out roles right away. */
  create(ctx: ServiceContext, input: CreateEnvInput): Promise<Env> {
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
      if (identity.kind === 'user') env.owner = tx.em.getReference(User, identity.user.id);
      tx.em.persist(env);
      audit({ targetType: 'Env', targetId: env.id, envId: env.id, after: snapshot(env) });
      // a deployment identity is never a site admin, and Berth itself holds no roles: the creator is a user or a bot
      if (identity.kind === 'user' || identity.kind === 'bot') {
        const holder = identity.kind === 'user' ? { user: env.owner } : { bot: tx.em.getReference(Bot, identity.bot.id) };
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

  /** Site admins, once no deployment is left in the env's clusters; the clusters stay, outside any env. */
  delete(ctx: ServiceContext, id: string): Promise<string> {
    // the foreign keys detach its clusters (ON DELETE SET NULL) and take its permissions and secrets (CASCADE)
    return this.uow.deleteVisible(
      ctx,
      'deleteEnv',
      Env,
      id,
      async (tx, env) => {
        await requireSiteAdmin(tx);
        await assertNoDeployments(tx, { cluster: { env: env.id } }, `Env "${env.name}"`);
      },
      (env) => env.id,
    );
  }
}
