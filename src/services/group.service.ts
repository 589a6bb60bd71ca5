import type { EntityClass } from '@mikro-orm/core';
import { Field, InputType } from 'type-graphql';
import type { Authenticator } from '../auth/authenticator.js';
import { Group, GroupMember, GroupWebApp, User, WebApp } from '../entities/index.js';
import { conflict, forbidden, notFound } from '../errors/domain-error.js';
import { hasK8sAccount, grantsOf, type Grants } from '../policy/grants.js';
import { findVisible, requireSiteAdmin } from '../policy/permissions.js';
import { keepVisible } from '../policy/visibility.js';
import type { ServiceContext } from '../request/context.js';
import type { Loaders, OrderSpec } from '../request/loaders.js';
import { snapshot, type UnitOfWork } from './unit-of-work.js';
import { requiredText } from './input-rules.js';
import { compact, iContains } from '../request/where.js';
import { ReadService } from './read-service.js';

@InputType()
export class GroupFilter {
  @Field({ nullable: true, description: 'case-insensitive substring' }) name?: string;
  @Field({ nullable: true }) canAdmin?: boolean;
}

@InputType()
export class CreateGroupInput {
  @Field() name!: string;
  @Field(() => Boolean, { nullable: true, defaultValue: false, description: 'automatically contains every user' }) specialAllAccounts?: boolean | null;
  @Field(() => Boolean, { nullable: true, defaultValue: false, description: 'automatically contains every approved user with a service account' })
  specialK8sAccounts?: boolean | null;
  @Field(() => Boolean, { nullable: true, defaultValue: false, description: 'members are site admins' }) canAdmin?: boolean | null;
}

@InputType({ description: 'Fields left out (or null) stay as they are.' })
export class UpdateGroupInput {
  @Field(() => Boolean, { nullable: true }) specialAllAccounts?: boolean | null;
  @Field(() => Boolean, { nullable: true }) specialK8sAccounts?: boolean | null;
  @Field(() => Boolean, { nullable: true }) canAdmin?: boolean | null;
}

const oldestFirst = (a: { createdAt: Date; id: string }, b: { createdAt: Date; id: string }) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id);
/** links (memberships, web apps) oldest first */
export const LINK_ORDER = [{ field: 'createdAt', direction: 'ASC' }] as const;

/** Rows by id, batched per request, that the caller may see, oldest first. */
export async function visibleByIds<T extends { id: string; createdAt: Date }>(ctx: ServiceContext, entity: EntityClass<T>, ids: string[]): Promise<T[]> {
  const rows = await Promise.all(ids.map((id) => ctx.loaders.byId(entity).load(id)));
  const visible = await keepVisible(ctx, await grantsOf(ctx), entity, rows);
  return visible.filter((row): row is T => row !== null).sort(oldestFirst);
}

/**
 * Kubportal's read of a group or web app by id: the row when it is the caller's (`mine`: its groups, the web apps they
 * show), FORBIDDEN when it exists but is not, NOT_FOUND when it does not exist. Unlike Berth's own reads, Kubportal
 * tells the two apart, and holds site admins to their own groups too.
 */
export async function findOwn<T extends { id: string }>(ctx: ServiceContext, entity: EntityClass<T>, id: string, mine: (g: Grants) => Set<string>, refusal: string): Promise<T> {
  const row = await ctx.loaders.byId(entity).load(id);
  if (!row) throw notFound(entity.name);
  if (!mine(await grantsOf(ctx)).has(id)) throw forbidden(refusal);
  return row;
}

/** A group's link to a member or a web app. */
interface LinkKind {
  link: EntityClass<GroupMember | GroupWebApp>;
  target: EntityClass<User | WebApp>;
  key: 'user' | 'webApp';
  field: string;
  what: string;
}
const MEMBER: LinkKind = { link: GroupMember, target: User, key: 'user', field: 'userId', what: 'Group member' };
const WEB_APP: LinkKind = { link: GroupWebApp, target: WebApp, key: 'webApp', field: 'webAppId', what: 'Group web app' };

/** Kubportal's groups: site admins manage them; members of a can_admin group are site admins. */
export class GroupService extends ReadService<Group, GroupFilter> {
  /** Kubportal's automatic groups, read once per request (keyed by the request's loaders) */
  private readonly automatic = new WeakMap<Loaders, Promise<Group[]>>();

  constructor(
    private readonly uow: UnitOfWork,
    private readonly authenticator: Authenticator,
  ) {
    super({
      entity: Group,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) => compact({ name: f.name ? iContains(f.name) : undefined, canAdmin: f.canAdmin }),
    });
  }

  create(ctx: ServiceContext, input: CreateGroupInput): Promise<Group> {
    return this.uow.mutation(ctx, 'createGroup', async (tx, audit) => {
      const name = requiredText(input.name, 'input.name');
      await requireSiteAdmin(tx);
      await assertNameFree(tx, name);
      const group = Object.assign(new Group(), {
        name,
        specialAllAccounts: input.specialAllAccounts ?? false,
        specialK8sAccounts: input.specialK8sAccounts ?? false,
        canAdmin: input.canAdmin ?? false,
      });
      tx.em.persist(group);
      audit({ targetType: 'Group', targetId: group.id, after: snapshot(group) });
      return group;
    });
  }

  rename(ctx: ServiceContext, id: string, name: string): Promise<Group> {
    return this.change(ctx, 'renameGroup', id, () => ({ name: requiredText(name, 'name') }));
  }

  update(ctx: ServiceContext, id: string, input: UpdateGroupInput): Promise<Group> {
    return this.change(ctx, 'updateGroup', id, () =>
      compact({ specialAllAccounts: input.specialAllAccounts, specialK8sAccounts: input.specialK8sAccounts, canAdmin: input.canAdmin }),
    );
  }

  /** Memberships and web app links go with it (foreign keys cascade). */
  delete(ctx: ServiceContext, id: string): Promise<string> {
    return this.uow.deleteVisible(ctx, 'deleteGroup', Group, id, requireSiteAdmin);
  }

  addMember(ctx: ServiceContext, groupId: string, userId: string): Promise<Group> {
    return this.link(ctx, 'addGroupMember', MEMBER, groupId, userId, true);
  }

  removeMember(ctx: ServiceContext, groupId: string, userId: string): Promise<Group> {
    return this.link(ctx, 'removeGroupMember', MEMBER, groupId, userId, false);
  }

  addWebApp(ctx: ServiceContext, groupId: string, webAppId: string): Promise<Group> {
    return this.link(ctx, 'addGroupWebApp', WEB_APP, groupId, webAppId, true);
  }

  removeWebApp(ctx: ServiceContext, groupId: string, webAppId: string): Promise<Group> {
    return this.link(ctx, 'removeGroupWebApp', WEB_APP, groupId, webAppId, false);
  }

  /** Ids of every group the user is in: explicit memberships and the automatic groups that hold it. */
  async groupIdsOf(ctx: ServiceContext, user: User): Promise<string[]> {
    const [links, automatic] = await Promise.all([
      ctx.loaders.children(GroupMember, 'user', LINK_ORDER as OrderSpec<GroupMember>).load(user.id),
      this.automaticGroups(ctx),
    ]);
    const k8sAccount = hasK8sAccount(user);
    const ids = new Set(links.map((l) => l.group.id));
    for (const group of automatic) if (group.specialAllAccounts || (group.specialK8sAccounts && k8sAccount)) ids.add(group.id);
    return [...ids];
  }

  /** The user's groups, the automatic ones included, as far as the caller may see them. */
  async groupsOf(ctx: ServiceContext, user: User): Promise<Group[]> {
    return visibleByIds(ctx, Group, await this.groupIdsOf(ctx, user));
  }

  /** Kubportal's GET /groups/{id}/: a group the caller is in. */
  ownGroup(ctx: ServiceContext, id: string): Promise<Group> {
    return findOwn(ctx, Group, id, (g) => g.groupIds, 'You are not in this group');
  }

  private automaticGroups(ctx: ServiceContext): Promise<Group[]> {
    let groups = this.automatic.get(ctx.loaders);
    if (!groups) {
      groups = ctx.em.find(Group, { $or: [{ specialAllAccounts: true }, { specialK8sAccounts: true }] });
      this.automatic.set(ctx.loaders, groups);
    }
    return groups;
  }

  /** `check` validates the input and returns the changes; then the group is loaded, the caller checked, the change applied. */
  private change(ctx: ServiceContext, operation: string, id: string, check: () => Partial<Group>): Promise<Group> {
    return this.uow.mutation(ctx, operation, async (tx, audit) => {
      const changes = check();
      const group = await findVisible(tx, Group, id);
      await requireSiteAdmin(tx);
      if (changes.name !== undefined && changes.name !== group.name) await assertNameFree(tx, changes.name);
      const before = snapshot(group);
      Object.assign(group, changes);
      audit({ targetType: 'Group', targetId: group.id, before, after: snapshot(group) });
      return group;
    });
  }

  private async link(ctx: ServiceContext, operation: string, kind: LinkKind, groupId: string, targetId: string, add: boolean): Promise<Group> {
    const { group, target } = await this.uow.mutation(ctx, operation, async (tx, audit) => {
      const group = await findVisible(tx, Group, groupId, 'groupId');
      const target = await findVisible(tx, kind.target, targetId, kind.field);
      await requireSiteAdmin(tx);
      const existing = await tx.em.findOne(kind.link, { group: group.id, [kind.key]: target.id } as never);
      if (add) {
        if (existing) throw conflict(`${kind.what} already exists`);
        const link = Object.assign(new (kind.link as new () => GroupMember | GroupWebApp)(), { group, [kind.key]: target });
        tx.em.persist(link);
        audit({ targetType: kind.link.name, targetId: link.id, after: snapshot(link) });
      } else {
        if (!existing) throw notFound(kind.what);
        audit({ targetType: kind.link.name, targetId: existing.id, before: snapshot(existing) });
        tx.em.remove(existing);
      }
      return { group, target };
    });
    // membership of a can_admin group makes a site admin: nothing cached about the user may outlive the change
    if (kind === MEMBER && group.canAdmin) this.authenticator.forgetIdentity('user', target.id);
    return group;
  }
}

async function assertNameFree(tx: ServiceContext, name: string): Promise<void> {
  if (await tx.em.count(Group, { name })) throw conflict(`A group named ${name} already exists`);
}
