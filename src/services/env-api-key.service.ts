import { parseOpaqueToken, secretMatches } from '../auth/opaque-token.js';
import { Env, EnvApiKey } from '../entities/index.js';
import { badInput, conflict, notFound } from '../errors/domain-error.js';
import { findVisible, requireSiteAdmin } from '../policy/permissions.js';
import type { ServiceContext } from '../request/context.js';
import { assertUuid } from '../request/where.js';
import { requiredText } from './input-rules.js';
import { ReadService } from './read-service.js';
import { snapshot, type UnitOfWork } from './unit-of-work.js';
import { newApiToken } from './user-token.service.js';

/**
 * The API keys of envs (Storj's project API keys): site admins make them, list them and delete them, by name or by
 * the key itself. A key is shown once, when it is made; only the hash of its secret is kept.
 */
export class EnvApiKeyService extends ReadService<EnvApiKey, object> {
  constructor(private readonly uow: UnitOfWork) {
    // Storj lists a project's keys by name
    super({ entity: EnvApiKey, order: [{ field: 'name', direction: 'ASC' }], where: () => ({}) });
  }

  /** The keys of an env the caller may see (NOT_FOUND otherwise), by name. */
  async list(ctx: ServiceContext, envId: string): Promise<EnvApiKey[]> {
    const env = await findVisible(ctx, Env, envId);
    return this.findWhere(ctx, { env: env.id });
  }

  /** A new key named uniquely in its env; `key` is the only time it is seen. */
  create(ctx: ServiceContext, envId: string, input: { name: string; partnerId?: string }): Promise<{ key: string; apiKey: EnvApiKey }> {
    return this.uow.mutation(ctx, 'createEnvApiKey', async (tx, audit) => {
      const name = requiredText(input.name, 'name');
      const partnerId = input.partnerId === undefined ? null : assertUuid(input.partnerId, 'partnerId');
      const env = await findVisible(tx, Env, envId);
      await requireSiteAdmin(tx);
      if (await tx.em.count(EnvApiKey, { env: env.id, name })) throw conflict(`An API key named "${name}" already exists in env "${env.name}"`);
      const { row, token } = newApiToken();
      const apiKey = Object.assign(new EnvApiKey(), { ...row, env, name, partnerId });
      tx.em.persist(apiKey);
      audit({ targetType: 'EnvApiKey', targetId: apiKey.id, envId: env.id, after: snapshot(apiKey) });
      return { key: token, apiKey };
    });
  }

  /** Deletes the key of this name in an env. */
  deleteByName(ctx: ServiceContext, envId: string, name: string): Promise<string> {
    return this.remove(ctx, async (tx) => {
      const env = await findVisible(tx, Env, envId);
      return tx.em.findOne(EnvApiKey, { env: env.id, name });
    });
  }

  /** Deletes the key itself: BAD_USER_INPUT for what is not a key's form, NOT_FOUND for one that is no key's. */
  deleteByKey(ctx: ServiceContext, key: string): Promise<string> {
    const parsed = parseOpaqueToken(key);
    if (!parsed) throw badInput('apikey', 'apikey is not an API key');
    return this.remove(ctx, async (tx) => {
      const apiKey = await tx.em.findOne(EnvApiKey, { id: parsed.id });
      return apiKey && secretMatches(parsed.secret, apiKey.secretHash) ? apiKey : null;
    });
  }

  private remove(ctx: ServiceContext, find: (tx: ServiceContext) => Promise<EnvApiKey | null>): Promise<string> {
    return this.uow.mutation(ctx, 'deleteEnvApiKey', async (tx, audit) => {
      const apiKey = await find(tx);
      await requireSiteAdmin(tx);
      if (!apiKey) throw notFound('API key');
      audit({ targetType: 'EnvApiKey', targetId: apiKey.id, envId: apiKey.env.id, before: snapshot(apiKey) });
      tx.em.remove(apiKey);
      return apiKey.id;
    });
  }
}
