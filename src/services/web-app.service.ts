import { Field, InputType } from 'type-graphql';
import { GroupWebApp, User, WebApp } from '../entities/index.js';
import { accountAndNamespace } from './k8s-service-account.service.js';
import { badInput } from '../errors/domain-error.js';
import { findVisible, requireSiteAdmin } from '../policy/permissions.js';
import type { ServiceContext } from '../request/context.js';
import { userFacts } from '../request/identity.js';
import { findOwn, LINK_ORDER, visibleByIds } from './group.service.js';
import type { OrderSpec } from '../request/loaders.js';
import { snapshot, type UnitOfWork } from './unit-of-work.js';
import { optionalText, requiredText } from './input-rules.js';
import { compact, iContains } from '../request/where.js';
import { ReadService } from './read-service.js';
import { grantsOf } from '../policy/grants.js';
import type { GroupService } from './group.service.js';

@InputType()
export class WebAppFilter {
  @Field({ nullable: true, description: 'case-insensitive substring' }) name?: string;
  @Field({ nullable: true }) linkShow?: boolean;
}

const PLACEHOLDER_HELP = "{{namespace}} and {{serviceaccount}} are filled from the viewer's service account";

@InputType()
export class CreateWebAppInput {
  @Field() name!: string;
  @Field(() => String, { nullable: true, description: PLACEHOLDER_HELP }) linkName?: string | null;
  @Field(() => String, { nullable: true, description: `an http(s) URL; ${PLACEHOLDER_HELP}` }) linkUrl?: string | null;
  @Field(() => Boolean, { nullable: true, defaultValue: false, description: "shown on its groups' members' portal" }) linkShow?: boolean | null;
}

@InputType({ description: 'Fields left out stay as they are; null clears linkName and linkUrl (and leaves name and linkShow as they are).' })
export class UpdateWebAppInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true, description: PLACEHOLDER_HELP }) linkName?: string | null;
  @Field(() => String, { nullable: true, description: `an http(s) URL; ${PLACEHOLDER_HELP}` }) linkUrl?: string | null;
  @Field(() => Boolean, { nullable: true }) linkShow?: boolean | null;
}

const PLACEHOLDERS = /\{\{(namespace|serviceaccount)\}\}/g;

/** A link template must be an http(s) URL once its placeholders are taken out. */
function checkLinkUrl(value: string, field: string): string {
  const template = value.trim();
  let url: URL | undefined;
  try {
    url = new URL(template.replace(PLACEHOLDERS, ''));
  } catch {
    // not a URL at all: reported below
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw badInput(field, `${field} must be an http(s) URL (placeholders aside)`);
  return template;
}

/** The input's link fields: undefined leaves a field as it is, null clears it. */
function checkLink(input: { linkName?: string | null; linkUrl?: string | null }, field: string): Partial<WebApp> {
  const link: Partial<WebApp> = {};
  if (input.linkName !== undefined) link.linkName = optionalText(input.linkName);
  if (input.linkUrl !== undefined) link.linkUrl = input.linkUrl === null ? null : checkLinkUrl(input.linkUrl, `${field}.linkUrl`);
  return link;
}

/** Kubportal's web apps: site admins manage them; members of their groups see the shown ones. */
export class WebAppService extends ReadService<WebApp, WebAppFilter> {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly groups: GroupService,
  ) {
    super({
      entity: WebApp,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) => compact({ name: f.name ? iContains(f.name) : undefined, linkShow: f.linkShow }),
    });
  }

  create(ctx: ServiceContext, input: CreateWebAppInput): Promise<WebApp> {
    return this.uow.mutation(ctx, 'createWebApp', async (tx, audit) => {
      const fields = { name: requiredText(input.name, 'input.name'), ...checkLink(input, 'input'), linkShow: input.linkShow ?? false };
      await requireSiteAdmin(tx);
      const webApp = Object.assign(new WebApp(), fields);
      tx.em.persist(webApp);
      audit({ targetType: 'WebApp', targetId: webApp.id, after: snapshot(webApp) });
      return webApp;
    });
  }

  update(ctx: ServiceContext, id: string, input: UpdateWebAppInput): Promise<WebApp> {
    return this.uow.mutation(ctx, 'updateWebApp', async (tx, audit) => {
      const changes = {
        ...compact({ name: input.name != null ? requiredText(input.name, 'input.name') : undefined, linkShow: input.linkShow }),
        ...checkLink(input, 'input'),
      };
      const webApp = await findVisible(tx, WebApp, id);
      await requireSiteAdmin(tx);
      const before = snapshot(webApp);
      Object.assign(webApp, changes);
      audit({ targetType: 'WebApp', targetId: webApp.id, before, after: snapshot(webApp) });
      return webApp;
    });
  }

  /** Its group links go with it (foreign keys cascade). */
  delete(ctx: ServiceContext, id: string): Promise<string> {
    return this.uow.deleteVisible(ctx, 'deleteWebApp', WebApp, id, requireSiteAdmin);
  }

  /** The web apps of the user's groups (automatic ones included); hidden ones only for site admins. */
  async webAppsOf(ctx: ServiceContext, user: User): Promise<WebApp[]> {
    const groupIds = await this.groups.groupIdsOf(ctx, user);
    const loader = ctx.loaders.children(GroupWebApp, 'group', LINK_ORDER as OrderSpec<GroupWebApp>);
    const links = (await Promise.all(groupIds.map((id) => loader.load(id)))).flat();
    const webApps = await visibleByIds(ctx, WebApp, [...new Set(links.map((l) => l.webApp.id))]);
    const { siteAdmin } = await grantsOf(ctx);
    return siteAdmin ? webApps : webApps.filter((w) => w.linkShow);
  }

  /** Kubportal's portal links: the user's web apps that are shown, whoever asks. */
  async shownWebAppsOf(ctx: ServiceContext, user: User): Promise<WebApp[]> {
    return (await this.webAppsOf(ctx, user)).filter((w) => w.linkShow);
  }

  /** Kubportal's GET /webapps/{id}/: a web app one of the caller's groups shows. */
  ownWebApp(ctx: ServiceContext, id: string): Promise<WebApp> {
    return findOwn(ctx, WebApp, id, (g) => g.webAppIds, 'None of your groups shows this web application');
  }

  /** A link template with {{namespace}} and {{serviceaccount}} filled from the caller's service account (empty when it has none). */
  async render(ctx: ServiceContext, template: string | null | undefined): Promise<string | null> {
    if (template == null) return null;
    const accountId = ctx.identity.kind === 'user' ? userFacts(ctx.identity).serviceAccountId : null;
    const { account, namespace } = await accountAndNamespace(ctx, accountId);
    const values: Record<string, string> = { namespace: namespace?.name ?? '', serviceaccount: account?.name ?? '' };
    return template.replace(PLACEHOLDERS, (_, name: string) => values[name]);
  }
}
