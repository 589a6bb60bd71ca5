import type { EntityClass } from '@mikro-orm/core';
import { EnvUserRole, UserDeploymentRole } from '../entities/enums.js';
import { forbidden, notFound } from '../errors/domain-error.js';
import { requireIdentity, type ServiceContext } from '../request/context.js';
import { assertUuid } from '../request/where.js';
import { kindKey, type Grants, grantsOf } from './grants.js';
import { keepVisible } from './visibility.js';

/**
 * The row with this id if the caller may see it; NOT_FOUND otherwise, whether it is missing or out
 * of scope. Writes start here, so a caller learns nothing about objects outside its envs.
 */
export async function findVisible<T extends { id: string }>(ctx: ServiceContext, entity: EntityClass<T>, id: string, field = 'id'): Promise<T> {
  const row = await ctx.loaders.byId(entity).load(assertUuid(id, field));
  const [visible] = await keepVisible(ctx, await grantsOf(ctx), entity, [row]);
  if (!visible) throw notFound(entity.name);
  return visible;
}

export async function requireSiteAdmin(ctx: ServiceContext): Promise<Grants> {
  const g = await grantsOf(ctx);
  if (!g.siteAdmin) throw forbidden('Only site admins may do this');
  return g;
}

/** Only Berth itself (a system identity: the cluster watch, the task worker) reports what it observed. */
export function requireSystem(ctx: ServiceContext): void {
  if (requireIdentity(ctx).kind !== 'system') throw forbidden('Only Berth itself may do this');
}

export const isEnvAdmin = (g: Grants, envId: string | null | undefined) => g.siteAdmin || (!!envId && g.envRoles.get(envId) === EnvUserRole.Admin);

/** Env Admin: manages the env's permissions, secrets and settings. */
export async function requireEnvAdmin(ctx: ServiceContext, envId: string | null | undefined): Promise<Grants> {
  const g = await grantsOf(ctx);
  if (!isEnvAdmin(g, envId)) throw forbidden('Only admins of this env may do this');
  return g;
}

/**
 * A deployment-kind role in an env: Owner creates and deletes deployments of the kind, Maintainer
 * (or Owner) edits them. Env Admins hold both. A cluster outside any env has no owners.
 */
export function hasKindRole(g: Grants, envId: string | null | undefined, kindId: string, role: UserDeploymentRole): boolean {
  if (!envId) return g.siteAdmin;
  if (isEnvAdmin(g, envId)) return true;
  const held = g.kindRoles.get(kindKey(envId, kindId));
  return role === UserDeploymentRole.Owner ? held === UserDeploymentRole.Owner : held !== undefined;
}

export async function requireKindRole(ctx: ServiceContext, envId: string | null | undefined, kindId: string, role: UserDeploymentRole): Promise<Grants> {
  const g = await grantsOf(ctx);
  if (!hasKindRole(g, envId, kindId, role)) throw forbidden(`Only ${role}s of this deployment kind in this env may do this`);
  return g;
}

/** Maintainer of a deployment: a kind Maintainer or Owner in its env, or the deployment itself acting with its own token. */
export async function requireDeploymentMaintainer(ctx: ServiceContext, deployment: { id: string; kind: { id: string } }, envId: string | null | undefined): Promise<Grants> {
  const g = await grantsOf(ctx);
  if (g.identity.kind === 'deployment' && g.identity.deployment.id === deployment.id) return g;
  if (!hasKindRole(g, envId, deployment.kind.id, UserDeploymentRole.Maintainer)) throw forbidden('Only maintainers of this deployment may do this');
  return g;
}
