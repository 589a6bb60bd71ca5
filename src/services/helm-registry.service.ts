import { Field, ID, InputType } from 'type-graphql';
import { kindNameFromRepo } from '../catalog/kind-name.js';
import { DeploymentKind, HelmRegistry } from '../entities/index.js';
import { HelmRegistryProvider } from '../entities/enums.js';
import { badInput, conflict } from '../errors/domain-error.js';
import { findVisible, requireSiteAdmin, requireSystem } from '../policy/permissions.js';
import type { ServiceContext } from '../request/context.js';
import type { Audit } from './unit-of-work.js';
import { snapshot, type UnitOfWork } from './unit-of-work.js';
import { compact, optionalUuid } from '../request/where.js';
import { ReadService } from './read-service.js';

@InputType()
export class HelmRegistryFilter {
  @Field({ nullable: true, description: 'exact' }) repoName?: string;
  @Field({ nullable: true, description: 'exact' }) domainName?: string;
  @Field(() => ID, { nullable: true }) kindId?: string;
  @Field(() => HelmRegistryProvider, { nullable: true }) provider?: HelmRegistryProvider;
}

@InputType()
export class CreateHelmRegistryInput {
  @Field() domainName!: string;
  @Field() repoName!: string;
  @Field(() => ID, { nullable: true, description: 'without it, the kind named after the repo (two-words-chart → TwoWords), created if needed' })
  kindId?: string | null;
  @Field(() => HelmRegistryProvider, { nullable: true, description: 'default Ecr' }) provider?: HelmRegistryProvider | null;
  @Field(() => String, { nullable: true, description: 'a Font Awesome icon name; default question' }) faIcon?: string | null;
}

const ICON = /^[a-z0-9-]{1,64}$/;

function checkIcon(icon: string, field: string): string {
  if (!ICON.test(icon)) throw badInput(field, 'The icon must be 1 to 64 lowercase letters, digits or dashes (a Font Awesome name)');
  return icon;
}

/** A registry domain or repo name: trimmed, non-empty, no whitespace inside. */
function checkName(value: string, field: string): string {
  const trimmed = value.trim();
  if (!trimmed || /\s/.test(trimmed) || trimmed.length > 255) throw badInput(field, `${field.replace('input.', '')} must be 1 to 255 characters without spaces`);
  return trimmed;
}

/** Platz's rule: the kind named after the repo, created when it does not exist yet. */
async function kindForRepo(tx: ServiceContext, audit: Audit, name: string): Promise<DeploymentKind> {
  const existing = await tx.em.findOne(DeploymentKind, { name });
  if (existing) return existing;
  const kind = Object.assign(new DeploymentKind(), { name });
  tx.em.persist(kind);
  audit({ targetType: 'DeploymentKind', targetId: kind.id, after: snapshot(kind) });
  return kind;
}

export class HelmRegistryService extends ReadService<HelmRegistry, HelmRegistryFilter> {
  constructor(private readonly uow: UnitOfWork) {
    super({
      entity: HelmRegistry,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) =>
        compact({ repoName: f.repoName, domainName: f.domainName, kind: optionalUuid(f.kindId, 'kindId'), provider: f.provider }),
    });
  }

  /** Site admins; one registry per (domain, repo). */
  create(ctx: ServiceContext, input: CreateHelmRegistryInput): Promise<HelmRegistry> {
    return this.uow.mutation(ctx, 'createHelmRegistry', async (tx, audit) => {
      const domainName = checkName(input.domainName, 'input.domainName');
      const repoName = checkName(input.repoName, 'input.repoName');
      const faIcon = checkIcon(input.faIcon ?? 'question', 'input.faIcon');
      const kindName = kindNameFromRepo(repoName);
      if (!input.kindId && !kindName) throw badInput('input.repoName', 'No deployment kind can be named after this repo; give kindId');
      const givenKind = input.kindId ? await findVisible(tx, DeploymentKind, input.kindId, 'input.kindId') : null;
      await requireSiteAdmin(tx);
      if (await tx.em.findOne(HelmRegistry, { domainName, repoName })) {
        throw conflict(`The registry ${domainName}/${repoName} already exists`);
      }
      const kind = givenKind ?? (await kindForRepo(tx, audit, kindName));
      const registry = Object.assign(new HelmRegistry(), { domainName, repoName, kind, faIcon, provider: input.provider ?? HelmRegistryProvider.Ecr });
      tx.em.persist(registry);
      audit({ targetType: 'HelmRegistry', targetId: registry.id, after: snapshot(registry) });
      return registry;
    });
  }

  /**
   * Chart discovery: the registries it polls, the available OCI ones. ECR registries are left out: ECR answers only
   * with AWS credentials, which Berth does not hold (Platz learns of their pushes from ECR's events instead).
   */
  discoverable(ctx: ServiceContext): Promise<HelmRegistry[]> {
    requireSystem(ctx);
    return ctx.em.find(HelmRegistry, { provider: HelmRegistryProvider.Oci, available: true }, { orderBy: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** Site admins; without an icon nothing changes (Platz's REST update leaves it optional). */
  setIcon(ctx: ServiceContext, id: string, faIcon: string | undefined): Promise<HelmRegistry> {
    return this.uow.mutation(ctx, 'setHelmRegistryIcon', async (tx, audit) => {
      if (faIcon !== undefined) checkIcon(faIcon, 'faIcon');
      const registry = await findVisible(tx, HelmRegistry, id);
      await requireSiteAdmin(tx);
      if (faIcon === undefined) return registry;
      const before = snapshot(registry);
      registry.faIcon = faIcon;
      audit({ targetType: 'HelmRegistry', targetId: registry.id, before, after: snapshot(registry) });
      return registry;
    });
  }
}
