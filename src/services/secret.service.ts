import { Field, ID, InputType } from 'type-graphql';
import type { Keyring } from '../auth/encryption.js';
import { Env, Secret } from '../entities/index.js';
import { deploymentsUsing, describeDeployments } from '../deployments/dependencies.js';
import { reinstallEnabled } from '../deployments/tasks.js';
import { badInput, conflict } from '../errors/domain-error.js';
import { findVisible, requireEnvAdmin, requireSystem } from '../policy/permissions.js';
import type { ServiceContext } from '../request/context.js';
import { snapshot, type UnitOfWork } from './unit-of-work.js';
import { compact, iEquals, optionalUuid } from '../request/where.js';
import { ReadService } from './read-service.js';

@InputType()
export class SecretFilter {
  @Field(() => ID, { nullable: true }) envId?: string;
  @Field({ nullable: true, description: 'case-insensitive, exact' }) collection?: string;
  @Field({ nullable: true, description: 'case-insensitive, exact' }) name?: string;
}

@InputType()
export class CreateSecretInput {
  @Field(() => ID) envId!: string;
  @Field() collection!: string;
  @Field() name!: string;
  @Field({ description: 'write-only: stored encrypted, never returned' }) contents!: string;
}

@InputType({ description: 'fields left out are unchanged' })
export class UpdateSecretInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true, description: 'write-only: stored encrypted, never returned' }) contents?: string | null;
}

const MAX_NAME = 253;

function checkLabel(value: string, field: string): void {
  if (!value.trim()) throw badInput(field, `${field} must not be empty`);
  if (value.length > MAX_NAME) throw badInput(field, `${field} must be at most ${MAX_NAME} characters`);
}

/** Secret metadata only: the contents are write-only and never leave the database decrypted through an API. */
export class SecretService extends ReadService<Secret, SecretFilter> {
  constructor(private readonly uow: UnitOfWork, private readonly keyring: Keyring) {
    super({
      entity: Secret,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) =>
        compact({
          env: optionalUuid(f.envId, 'envId'),
          collection: f.collection ? iEquals(f.collection) : undefined,
          name: f.name ? iEquals(f.name) : undefined,
        }),
    });
  }

  /** Env Admin. */
  create(ctx: ServiceContext, input: CreateSecretInput): Promise<Secret> {
    return this.uow.mutation(ctx, 'createSecret', async (tx, audit) => {
      checkLabel(input.collection, 'input.collection');
      checkLabel(input.name, 'input.name');
      const env = await findVisible(tx, Env, input.envId, 'input.envId');
      await requireEnvAdmin(tx, env.id);
      await checkUnique(tx, env.id, input.collection, input.name);
      const secret = Object.assign(new Secret(), { env, collection: input.collection, name: input.name });
      this.encrypt(secret, input.contents);
      tx.em.persist(secret);
      audit({ targetType: 'Secret', targetId: secret.id, envId: env.id, after: snapshot(secret) });
      return secret;
    });
  }

  /** Env Admin. Reinstalls the enabled deployments that use the secret, as Platz does. */
  update(ctx: ServiceContext, id: string, input: UpdateSecretInput): Promise<Secret> {
    return this.uow.mutation(ctx, 'updateSecret', async (tx, audit) => {
      if (input.name !== undefined && input.name !== null) checkLabel(input.name, 'input.name');
      const secret = await findVisible(tx, Secret, id);
      await requireEnvAdmin(tx, secret.env.id);
      if (input.name && input.name !== secret.name) await checkUnique(tx, secret.env.id, secret.collection, input.name);
      const old = snapshot(secret);
      if (input.name) secret.name = input.name;
      if (input.contents !== undefined && input.contents !== null) this.encrypt(secret, input.contents);
      secret.updatedAt = new Date();
      const users = await deploymentsUsing(tx, secret.env.id, { kind: 'secrets', id: secret.id });
      reinstallEnabled(tx, users, `${secret.collection} secret has been updated`);
      audit({ targetType: 'Secret', targetId: secret.id, envId: secret.env.id, before: old, after: snapshot(secret) });
      return secret;
    });
  }

  /** Env Admin; a CONFLICT while any deployment uses it. */
  delete(ctx: ServiceContext, id: string): Promise<string> {
    return this.uow.deleteVisible(
      ctx,
      'deleteSecret',
      Secret,
      id,
      async (tx, secret) => {
        await requireEnvAdmin(tx, secret.env.id);
        const users = await deploymentsUsing(tx, secret.env.id, { kind: 'secrets', id: secret.id });
        if (users.length) throw conflict(`This secret can't be deleted because deployments use it: ${describeDeployments(users)}`);
      },
      (secret) => secret.env.id,
    );
  }

  /**
   * The secrets of an env a release's config picks, decrypted for the task worker alone (it writes them into the
   * deployment's namespace): never through an API.
   */
  async contentsOf(ctx: ServiceContext, envId: string | null, ids: string[]): Promise<{ id: string; name: string; collection: string; contents: string }[]> {
    requireSystem(ctx);
    if (!ids.length || !envId) return [];
    const secrets = await ctx.em.find(Secret, { id: { $in: ids }, env: envId });
    return secrets.map((s) => ({ id: s.id, name: s.name, collection: s.collection, contents: this.keyring.decrypt(s.contentsEncrypted, `secrets:${s.id}`) }));
  }

  /** Bound to the row id, so a ciphertext copied to another row does not decrypt. */
  private encrypt(secret: Secret, contents: string): void {
    secret.contentsEncrypted = this.keyring.encrypt(contents, `secrets:${secret.id}`);
  }
}

async function checkUnique(tx: ServiceContext, envId: string, collection: string, name: string): Promise<void> {
  if (await tx.em.count(Secret, { env: envId, collection, name })) {
    throw conflict(`A secret named "${name}" already exists in the ${collection} collection of this env`);
  }
}
