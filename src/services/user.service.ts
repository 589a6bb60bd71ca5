import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import { Field, ID, InputType, Int } from 'type-graphql';
import type { Authenticator } from '../auth/authenticator.js';
import type { Keyring } from '../auth/encryption.js';
import { hashPassword, verifyPassword } from '../auth/password.js';
import { Env, EnvUserPermission, K8sCluster, K8sNamespace, K8sServiceAccount, User, UserSession } from '../entities/index.js';
import { EnvUserRole, UserApprovalState } from '../entities/enums.js';
import { badInput, conflict, DomainError, forbidden, notFound } from '../errors/domain-error.js';
import type { ProvisionedAccount } from '../k8s/cluster-api.js';
import type { KubeconfigEntry } from '../k8s/kubeconfig.js';
import { grantsOf, type Grants } from '../policy/grants.js';
import type { AuthService } from './auth.service.js';
import { findVisible, requireSiteAdmin } from '../policy/permissions.js';
import type { AuthTokens } from './auth.service.js';
import { requireIdentity, transactionContext, type ServiceContext } from '../request/context.js';
import { userFacts } from '../request/identity.js';
import type { BeaconService } from './beacon.service.js';
import { readKubeconfig, type K8sClusterService } from './k8s-cluster.service.js';
import { snapshot, type Audit, type UnitOfWork } from './unit-of-work.js';
import { checkEmail, checkPassword, checkUsername, optionalText, requiredText } from './input-rules.js';
import { compact, iContains, iEquals } from '../request/where.js';
import { ReadService } from './read-service.js';
import { accountAndNamespace } from './k8s-service-account.service.js';

@InputType({ description: 'Every field is optional; given fields are combined with AND.' })
export class UserFilter {
  @Field({ nullable: true, description: 'case-insensitive substring' }) displayName?: string;
  @Field({ nullable: true, description: 'case-insensitive substring' }) email?: string;
  @Field({ nullable: true, description: 'case-insensitive, exact' }) username?: string;
  @Field({ nullable: true }) isActive?: boolean;
  @Field({ nullable: true }) isAdmin?: boolean;
  @Field(() => UserApprovalState, { nullable: true }) approvalState?: UserApprovalState;
}

@InputType()
export class SignUpInput {
  @Field() email!: string;
  @Field({ description: '1 to 64 letters, digits, dots, underscores or dashes' }) username!: string;
  @Field() displayName!: string;
  @Field({ description: 'at least 8 characters' }) password!: string;
}

@InputType()
export class CreateUserInput {
  @Field() email!: string;
  @Field({ description: '1 to 64 letters, digits, dots, underscores or dashes' }) username!: string;
  @Field() displayName!: string;
  @Field(() => String, { nullable: true, description: 'at least 8 characters; null: the user signs in with single sign-on only' })
  password?: string | null;
  @Field(() => Boolean, { nullable: true, defaultValue: false }) isAdmin?: boolean | null;
  @Field(() => Int, { nullable: true, defaultValue: 0, description: "Lighthouse's auth level; at most the caller's own unless the caller is a site admin" })
  authLevel?: number | null;
}

@InputType({ description: 'Fields left out (or null) stay as they are; null clears firstName and lastName.' })
export class UpdateUserInput {
  @Field(() => String, { nullable: true }) displayName?: string | null;
  @Field(() => String, { nullable: true }) firstName?: string | null;
  @Field(() => String, { nullable: true }) lastName?: string | null;
  @Field(() => String, { nullable: true }) email?: string | null;
  @Field(() => [String], { nullable: true }) alternativeEmails?: string[] | null;
}

@InputType({ description: "A namespace to create for the user in the cluster, with a service account named after the user and that account's token" })
export class NewNamespaceInput {
  @Field(() => ID, { description: 'a cluster Berth has credentials for' }) clusterId!: string;
  @Field({ description: 'lowercased, every character but letters and digits removed (as Kubportal does)' }) name!: string;
}

@InputType({ description: 'Exactly one of the two' })
export class ApproveAccessInput {
  @Field(() => ID, { nullable: true, description: 'an existing service account' }) serviceAccountId?: string | null;
  @Field(() => NewNamespaceInput, { nullable: true }) newNamespace?: NewNamespaceInput | null;
}

/** The calling user; null for bots and deployments. */
export const callerUser = (g: Grants): User | null => (g.identity.kind === 'user' ? g.identity.user : null);

/**
 * Lighthouse: besides site admins, a user manages users of a strictly lower auth level (and
 * itself where the operation allows it).
 */
const outranks = (g: Grants, target: User) => {
  const caller = callerUser(g);
  return !!caller && target.authLevel < caller.authLevel;
};

/** Kubernetes names allow lowercase letters and digits only here, at most 63 of them. */
function namespaceName(raw: string, field: string): string {
  const name = raw.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (!name) throw badInput(field, `${field} must contain letters or digits`);
  if (name.length > 63) throw badInput(field, `${field} must be at most 63 characters once sanitized`);
  return name;
}

/** A DNS-1123 label made from a username (letters, digits, dots, underscores, dashes): the user's service account. */
function serviceAccountName(username: string): string {
  return username.toLowerCase().replace(/[^a-z0-9-]+/g, '-').slice(0, 63).replace(/^-+|-+$/g, '') || 'user';
}

interface NewUser {
  email: string;
  username: string;
  displayName: string;
  isAdmin: boolean;
  authLevel: number;
  password: string | null;
  firstName?: string | null;
}

function checkNewUser(input: SignUpInput | CreateUserInput, field: string): Omit<NewUser, 'isAdmin' | 'authLevel'> {
  const password = input.password ?? null;
  const user = {
    email: checkEmail(input.email, `${field}.email`),
    username: checkUsername(input.username, `${field}.username`),
    displayName: requiredText(input.displayName, `${field}.displayName`),
    password,
  };
  if (password !== null) checkPassword(password, `${field}.password`);
  return user;
}

/** Email (case-insensitive) and username are unique; the database indexes back this up against races. */
async function assertAvailable(tx: ServiceContext, fields: { email?: string; username?: string }, exceptId?: string): Promise<void> {
  const others = exceptId ? { id: { $ne: exceptId } } : {};
  if (fields.email !== undefined && (await tx.em.count(User, { email: iEquals(fields.email), ...others }))) {
    throw conflict(`A user with the email ${fields.email} already exists`);
  }
  if (fields.username !== undefined && (await tx.em.count(User, { username: fields.username, ...others }))) {
    throw conflict(`A user with the username ${fields.username} already exists`);
  }
}

/** Applies a change to a user and records it. */
function recordChange(audit: Audit, user: User, change: (user: User) => void): User {
  const before = snapshot(user);
  change(user);
  audit({ targetType: 'User', targetId: user.id, before, after: snapshot(user) });
  return user;
}

export class UserService extends ReadService<User, UserFilter> {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly auth: AuthService,
    private readonly authenticator: Authenticator,
    private readonly clusters: K8sClusterService,
    private readonly beacons: BeaconService,
    /** encrypts the Kubernetes tokens of users at rest */
    private readonly keyring: Keyring,
    private readonly signupEnabled: boolean,
  ) {
    super({
      entity: User,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) =>
        compact({
          displayName: f.displayName ? iContains(f.displayName) : undefined,
          email: f.email ? iContains(f.email) : undefined,
          username: f.username ? iEquals(f.username) : undefined,
          isActive: f.isActive,
          isAdmin: f.isAdmin,
          approvalState: f.approvalState,
        }),
    });
  }

  /** Self-service registration; the new user is signed in at once. */
  signUp(ctx: ServiceContext, input: SignUpInput): Promise<AuthTokens> {
    return this.register(ctx, async () => input);
  }

  /** Porter's sign-up, with an email and a password alone: the username is made from the address, as createFromEmail's. */
  signUpWithEmail(ctx: ServiceContext, email: string, password: string): Promise<AuthTokens> {
    return this.register(ctx, async (tx) => ({ email, password, displayName: email, username: await uniqueUsername(tx.em, email) }));
  }

  private register(ctx: ServiceContext, inputOf: (tx: ServiceContext) => Promise<SignUpInput>): Promise<AuthTokens> {
    return this.uow.mutation(ctx, 'signUp', async (tx, audit) => {
      if (!this.signupEnabled) throw forbidden('Sign-up is disabled on this server');
      const user = await insertUser(tx, audit, { ...checkNewUser(await inputOf(tx), 'input'), isAdmin: false, authLevel: 0 });
      // the original context, not tx: the rest of the request (and the audit actor) is the new user
      return this.auth.openSession(ctx, tx.em, user);
    });
  }

  create(ctx: ServiceContext, input: CreateUserInput): Promise<User> {
    return this.uow.mutation(ctx, 'createUser', async (tx, audit) => {
      const fields = checkNewUser(input, 'input');
      const isAdmin = input.isAdmin ?? false;
      const authLevel = input.authLevel ?? 0;
      if (authLevel < 0) throw badInput('input.authLevel', 'input.authLevel must not be negative');
      checkCreator(await grantsOf(tx), { isAdmin, authLevel });
      return insertUser(tx, audit, { ...fields, isAdmin, authLevel });
    });
  }

  /** The user of this email (case-insensitive) or username, if the caller may see it; NOT_FOUND otherwise. */
  async findByLogin(ctx: ServiceContext, login: string): Promise<User> {
    const [user] = await this.findWhere(ctx, { $or: [{ email: iEquals(login) }, { username: login }] });
    if (!user) throw notFound('User');
    return user;
  }

  /**
   * Lighthouse's PUT /users/{Email}, all or nothing: on oneself and users of a lower auth level (site admins on
   * anyone), the auth level (at most the caller's own, never one's own), the password (the user's other sessions
   * end) and levels on beacons (BeaconService.setLevels). Fields left undefined stay.
   */
  updateAccess(ctx: ServiceContext, login: string, change: { authLevel?: number; password?: string; beacons?: Record<string, number> }): Promise<User> {
    return this.mutateUser(ctx, 'updateUserAccess', async (tx, audit) => {
      const user = await this.findByLogin(tx, login);
      const g = await grantsOf(tx);
      const self = callerUser(g)?.id === user.id;
      if (!g.siteAdmin && !self && !outranks(g, user)) throw forbidden('You may update yourself and users of a lower auth level than yours only');
      const before = snapshot(user);
      if (change.authLevel !== undefined && change.authLevel !== user.authLevel) {
        if (change.authLevel < 0) throw badInput('AuthLevel', 'AuthLevel must not be negative');
        if (!g.siteAdmin && self) throw forbidden("You can't change your own auth level");
        if (!g.siteAdmin && change.authLevel > callerUser(g)!.authLevel) throw forbidden(`You may give an auth level up to your own (${callerUser(g)!.authLevel})`);
        user.authLevel = change.authLevel;
      }
      if (change.password !== undefined) {
        checkPassword(change.password, 'Password');
        user.passwordHash = await hashPassword(change.password);
        const keep = self && g.identity.kind === 'user' && g.identity.sessionId ? { id: { $ne: g.identity.sessionId } } : {};
        await tx.em.nativeUpdate(UserSession, { user: user.id, revokedAt: null, ...keep }, { revokedAt: new Date() });
      }
      await this.beacons.setLevels(tx, audit, user, change.beacons ?? {});
      audit({ targetType: 'User', targetId: user.id, before, after: snapshot(user) });
      return user;
    });
  }

  /** The user with this email (case-insensitive), if the caller may see it. */
  async findByEmail(ctx: ServiceContext, email: string): Promise<User | null> {
    const [user] = await this.findWhere(ctx, { email: iEquals(email) });
    return user ?? null;
  }

  /**
   * A user known by its email alone (Lighthouse's and Storj's APIs): its username made from the email, its display
   * name the email unless given; a plain user of auth level 0, created by whoever `create` allows.
   */
  createFromEmail(ctx: ServiceContext, input: { email: string; password: string; displayName?: string; firstName?: string | null }): Promise<User> {
    return this.uow.mutation(ctx, 'createUser', async (tx, audit) => {
      const email = checkEmail(input.email, 'email');
      checkPassword(input.password, 'password');
      const displayName = input.displayName === undefined ? email : requiredText(input.displayName, 'displayName');
      checkCreator(await grantsOf(tx), { isAdmin: false, authLevel: 0 });
      return insertUser(tx, audit, { email, displayName, firstName: optionalText(input.firstName), password: input.password, isAdmin: false, authLevel: 0, username: await uniqueUsername(tx.em, email) });
    });
  }

  /** `projectLimit` (Storj's: how many envs the user may own) is set by site admins only. */
  update(ctx: ServiceContext, id: string, input: UpdateUserInput, projectLimit?: number): Promise<User> {
    return this.mutateUser(ctx, 'updateUser', async (tx, audit) => {
      if (projectLimit !== undefined) {
        if (!Number.isSafeInteger(projectLimit) || projectLimit < 0) throw badInput('projectLimit', 'projectLimit must be a whole number, not negative');
        await requireSiteAdmin(tx);
      }
      const changes = compact({
        displayName: input.displayName != null ? requiredText(input.displayName, 'input.displayName') : undefined,
        email: input.email != null ? checkEmail(input.email, 'input.email') : undefined,
        alternativeEmails: input.alternativeEmails?.map((email, i) => checkEmail(email, `input.alternativeEmails.${i}`)),
        projectLimit,
      });
      // null clears these two
      const names: Partial<User> = {};
      if (input.firstName !== undefined) names.firstName = optionalText(input.firstName);
      if (input.lastName !== undefined) names.lastName = optionalText(input.lastName);
      const user = await findVisible(tx, User, id);
      const g = await grantsOf(tx);
      if (!g.siteAdmin && callerUser(g)?.id !== user.id && !outranks(g, user)) {
        throw forbidden('You may update yourself and users of a lower auth level than yours only');
      }
      if (typeof changes.email === 'string') await assertAvailable(tx, { email: changes.email }, user.id);
      return recordChange(audit, user, (u) => Object.assign(u, changes, names));
    });
  }

  /**
   * Kubportal's self-only rule, site admins included: the caller's own user; another user's id FORBIDDEN; an id that
   * names no user (null: no id at all) NOT_FOUND, or FORBIDDEN too with `unknownForbidden` (Kubportal's nested routes).
   */
  async ownUser(ctx: ServiceContext, id: string | null, unknownForbidden = false): Promise<User> {
    const identity = requireIdentity(ctx);
    if (id !== null && identity.kind === 'user' && identity.user.id === id) return findVisible(ctx, User, id);
    if (!unknownForbidden && (id === null || !(await ctx.em.count(User, { id })))) throw notFound('User');
    throw forbidden('You may only read and change your own user');
  }

  /**
   * What Kubportal shows a user of itself (`ownUser`): whether it is a site admin (an admin, or a member of a
   * can_admin group), its service account and namespace, and the token provisioned for it, decrypted for it alone.
   */
  async ownAccount(ctx: ServiceContext, user: User): Promise<{ admin: boolean; serviceAccount: K8sServiceAccount | null; namespace: K8sNamespace | null; k8sToken: string | null }> {
    const g = await grantsOf(ctx);
    if (callerUser(g)?.id !== user.id) throw forbidden('Only a user itself reads its Kubernetes account');
    const { account, namespace } = await accountAndNamespace(ctx, user.serviceAccount?.id);
    const k8sToken = user.k8sTokenEncrypted ? this.keyring.decrypt(user.k8sTokenEncrypted, `users:${user.id}`) : null;
    return { admin: g.siteAdmin, serviceAccount: account, namespace, k8sToken };
  }

  /**
   * Site admins, on users that are not site admins and own no env. The row goes, and its sessions, tokens and roles
   * with it; its audit records stay.
   */
  async delete(ctx: ServiceContext, id: string): Promise<string> {
    const userId = await this.uow.deleteVisible(ctx, 'deleteUser', User, id, async (tx, user) => {
      await requireSiteAdmin(tx);
      await assertDeletable(tx, user);
    });
    this.authenticator.forgetIdentity('user', userId);
    return userId;
  }

  /**
   * The caller deletes itself, proving it with its password (Porter's DELETE, which never checked it), under the rules
   * of `delete`; its sessions, tokens and roles go with it.
   */
  async deleteSelf(ctx: ServiceContext, password: string): Promise<string> {
    const identity = requireIdentity(ctx);
    if (identity.kind !== 'user') throw forbidden('Only users can delete themselves');
    const userId = await this.uow.deleteVisible(ctx, 'deleteUser', User, userFacts(identity).id, async (tx, user) => {
      if (!(await verifyPassword(user.passwordHash, password))) throw badInput('password', 'password is not correct');
      await assertDeletable(tx, user);
    });
    this.authenticator.forgetIdentity('user', userId);
    return userId;
  }

  /** The caller's own password; the caller's other sessions end. */
  async changePassword(ctx: ServiceContext, currentPassword: string, newPassword: string): Promise<boolean> {
    await this.mutateUser(ctx, 'changePassword', async (tx, audit) => {
      checkPassword(newPassword, 'newPassword');
      const { identity } = await grantsOf(tx);
      if (identity.kind !== 'user') throw forbidden('Only users have passwords');
      const user = await findVisible(tx, User, identity.user.id);
      if (!(await verifyPassword(user.passwordHash, currentPassword))) throw badInput('currentPassword', 'The current password is not correct');
      const passwordHash = await hashPassword(newPassword);
      const keep = identity.sessionId ? { id: { $ne: identity.sessionId } } : {};
      await tx.em.nativeUpdate(UserSession, { user: user.id, revokedAt: null, ...keep }, { revokedAt: new Date() });
      return recordChange(audit, user, (u) => (u.passwordHash = passwordHash));
    });
    return true;
  }

  /**
   * The caller's own kubeconfig (Porter's), decrypted, with its usable contexts and those on the clusters the caller
   * allowed. Nobody else reads it, site admins included.
   */
  async ownKubeconfig(ctx: ServiceContext): Promise<{ user: User; raw: string | null; contexts: KubeconfigEntry[]; allowed: KubeconfigEntry[] }> {
    const user = await callerRow(ctx, 'Only users have a kubeconfig');
    const raw = user.rawKubeconfigEncrypted ? this.keyring.decrypt(user.rawKubeconfigEncrypted, kubeconfigBinding(user)) : null;
    const contexts = raw === null ? [] : readKubeconfig(raw, 'rawKubeconfig');
    const allowed = new Set(user.allowedClusters);
    return { user, raw, contexts, allowed: contexts.filter((context) => allowed.has(context.name)) };
  }

  /** Replaces the caller's kubeconfig, kept encrypted, and the clusters of it the caller allows (by cluster name, as Porter filters). */
  setKubeconfig(ctx: ServiceContext, rawKubeconfig: string, allowedClusters: string[]): Promise<User> {
    return this.mutateUser(ctx, 'setKubeconfig', async (tx, audit) => {
      readKubeconfig(rawKubeconfig, 'rawKubeconfig');
      const user = await callerRow(tx, 'Only users have a kubeconfig');
      return recordChange(audit, user, (u) =>
        Object.assign(u, { rawKubeconfigEncrypted: this.keyring.encrypt(rawKubeconfig, kubeconfigBinding(u)), allowedClusters: [...new Set(allowedClusters)] }),
      );
    });
  }

  setActive(ctx: ServiceContext, id: string, active: boolean): Promise<User> {
    return this.setBySiteAdmin(ctx, 'setUserActive', id, { isActive: active });
  }

  setAdmin(ctx: ServiceContext, id: string, admin: boolean): Promise<User> {
    return this.setBySiteAdmin(ctx, 'setUserAdmin', id, { isAdmin: admin });
  }

  /** Site admins, on users other than themselves: both flags in one write (Platz's PUT /users/{id}); those left undefined stay. */
  setFlags(ctx: ServiceContext, id: string, flags: Partial<Pick<User, 'isActive' | 'isAdmin'>>): Promise<User> {
    return this.setBySiteAdmin(ctx, 'setUserFlags', id, compact(flags));
  }

  setAuthLevel(ctx: ServiceContext, id: string, authLevel: number): Promise<User> {
    return this.mutateUser(ctx, 'setUserAuthLevel', async (tx, audit) => {
      if (authLevel < 0) throw badInput('authLevel', 'authLevel must not be negative');
      const user = await findVisible(tx, User, id);
      const g = await grantsOf(tx);
      if (!g.siteAdmin) {
        if (!outranks(g, user)) throw forbidden('You may change the auth level of users of a lower level than yours only');
        const level = callerUser(g)!.authLevel;
        if (authLevel > level) throw forbidden(`You may give an auth level up to your own (${level})`);
      }
      return recordChange(audit, user, (u) => (u.authLevel = authLevel));
    });
  }

  /** Kubportal: the caller asks for a Kubernetes account. */
  requestAccess(ctx: ServiceContext, comments: string | null | undefined): Promise<User> {
    return this.mutateUser(ctx, 'requestAccess', async (tx, audit) => {
      const { identity } = await grantsOf(tx);
      if (identity.kind !== 'user') throw forbidden('Only users may request access');
      const user = await findVisible(tx, User, identity.user.id);
      if (user.approvalState !== UserApprovalState.NEW && user.approvalState !== UserApprovalState.ACCESS_REJECTED) {
        throw conflict(`Access can't be requested while the user's state is ${user.approvalState}`);
      }
      return recordChange(audit, user, (u) =>
        Object.assign(u, {
          approvalState: UserApprovalState.ACCESS_REQUESTED,
          approvalId: randomUUID(),
          approvalComments: optionalText(comments),
          approvalAnsweredBy: null,
        }),
      );
    });
  }

  /**
   * Links the user to an existing service account, or provisions an account for it: a new namespace in the chosen
   * cluster, a service account there and its token (see approveWithNewNamespace).
   */
  approveAccess(ctx: ServiceContext, userId: string, input: ApproveAccessInput): Promise<User> {
    const { serviceAccountId, newNamespace } = input;
    if ((serviceAccountId == null) === (newNamespace == null)) {
      throw badInput('input', 'Give exactly one of input.serviceAccountId and input.newNamespace');
    }
    if (newNamespace) return this.approveWithNewNamespace(ctx, userId, newNamespace);
    return this.mutateUser(ctx, 'approveAccessRequest', async (tx, audit) => {
      const user = await findVisible(tx, User, userId, 'userId');
      const serviceAccount = await findVisible(tx, K8sServiceAccount, serviceAccountId!, 'input.serviceAccountId');
      const g = await requireSiteAdmin(tx);
      assertRequested(user, 'approved');
      return answer(tx, audit, g, user, { approvalState: UserApprovalState.ACCESS_APPROVED, serviceAccount });
    });
  }

  /**
   * The cluster is asked first, outside any transaction (no database lock waits on it): the checks run on their own,
   * then the namespace, service account and token are made, then the records are written in the unit of work, the
   * checks made again there. If the cluster fails, nothing is written (CLUSTER_UNAVAILABLE, or CONFLICT for a
   * namespace the cluster already has); if the write fails, the namespace is deleted again. The token is kept
   * encrypted on the user row, for Kubportal's `k8s_token`, which only the user itself reads.
   */
  private async approveWithNewNamespace(ctx: ServiceContext, userId: string, input: NewNamespaceInput): Promise<User> {
    const namespace = namespaceName(input.name, 'input.newNamespace.name');
    const checks = async (tx: ServiceContext) => {
      const user = await findVisible(tx, User, userId, 'userId');
      const cluster = await findVisible(tx, K8sCluster, input.clusterId, 'input.newNamespace.clusterId');
      const g = await requireSiteAdmin(tx);
      assertRequested(user, 'approved');
      if (await tx.em.count(K8sNamespace, { cluster: cluster.id, name: namespace })) throw conflict(`The namespace ${namespace} already exists in this cluster`);
      return { user, cluster, g };
    };
    // a fork of its own, so the transaction below reads the rows again rather than these
    const { user, cluster } = await checks(transactionContext(ctx, ctx.em.fork()));
    const names = { namespace, serviceAccount: serviceAccountName(user.username) };
    const account = await this.clusters.provisionAccount(cluster, names);
    try {
      return await this.mutateUser(ctx, 'approveAccessRequest', async (tx, audit) => {
        const { user, cluster, g } = await checks(tx);
        const serviceAccount = await createNamespace(tx, audit, cluster, names, account);
        const k8sTokenEncrypted = this.keyring.encrypt(account.token, `users:${user.id}`);
        return answer(tx, audit, g, user, { approvalState: UserApprovalState.ACCESS_APPROVED, serviceAccount, k8sTokenEncrypted });
      });
    } catch (err) {
      const left = await this.clusters.deleteNamespace(cluster, namespace).then(
        () => '',
        () => `; the namespace ${namespace} made for it is left in cluster "${cluster.name}"`,
      );
      throw err instanceof DomainError && left ? new DomainError(err.code, err.message + left, err.field) : err;
    }
  }

  rejectAccess(ctx: ServiceContext, userId: string, comments: string | null | undefined): Promise<User> {
    return this.mutateUser(ctx, 'rejectAccessRequest', async (tx, audit) => {
      const user = await findVisible(tx, User, userId, 'userId');
      const g = await requireSiteAdmin(tx);
      assertRequested(user, 'rejected');
      const reason = optionalText(comments);
      return answer(tx, audit, g, user, { approvalState: UserApprovalState.ACCESS_REJECTED, serviceAccount: null, ...(reason ? { approvalComments: reason } : {}) });
    });
  }

  private setBySiteAdmin(ctx: ServiceContext, operation: string, id: string, change: Partial<Pick<User, 'isActive' | 'isAdmin'>>): Promise<User> {
    return this.mutateUser(ctx, operation, async (tx, audit) => {
      const user = await findVisible(tx, User, id);
      const g = await requireSiteAdmin(tx);
      if (callerUser(g)?.id === user.id) throw conflict("You can't update your own user");
      return recordChange(audit, user, (u) => Object.assign(u, change));
    });
  }

  /** A mutation of one user row; afterwards its credentials are read again, so the change applies to its next request. */
  private async mutateUser(ctx: ServiceContext, operation: string, work: (tx: ServiceContext, audit: Audit) => Promise<User>): Promise<User> {
    const user = await this.uow.mutation(ctx, operation, work);
    this.authenticator.forgetIdentity('user', user.id);
    return user;
  }
}

/** What keeps a user from being deleted: being a site admin, or owning envs. */
async function assertDeletable(tx: ServiceContext, user: User): Promise<void> {
  if (user.isAdmin) throw conflict('A site admin cannot be deleted; take its admin flag away first');
  const owned = await tx.em.find(Env, { owner: user.id }, { orderBy: { name: 'ASC' }, limit: 10 });
  if (owned.length) throw conflict(`The user still owns envs: ${owned.map((env) => env.name).join(', ')}`);
}

/** The calling user's row; `refusal` says why a bot or a deployment may not. */
async function callerRow(ctx: ServiceContext, refusal: string): Promise<User> {
  const { identity } = await grantsOf(ctx);
  if (identity.kind !== 'user') throw forbidden(refusal);
  return findVisible(ctx, User, identity.user.id);
}

/** What a user's kubeconfig is encrypted for: the row, and the column (the row holds another secret, its Kubernetes token). */
const kubeconfigBinding = (user: User) => `users:${user.id}:raw_kubeconfig`;

/** A new user, with its auto-added env roles. */
async function insertUser(tx: ServiceContext, audit: Audit, fields: NewUser): Promise<User> {
  const { password, ...columns } = fields;
  await assertAvailable(tx, columns);
  const user = Object.assign(new User(), { ...columns, passwordHash: password === null ? null : await hashPassword(password) });
  tx.em.persist(user);
  audit({ targetType: 'User', targetId: user.id, after: snapshot(user) });
  await joinAutoAddEnvs(tx.em, audit, user);
  return user;
}

/** Every way a user comes to be (sign-up, an admin, single sign-on): env role User in every env that adds new users automatically. */
export async function joinAutoAddEnvs(em: EntityManager, audit: Audit, user: User): Promise<void> {
  for (const env of await em.find(Env, { autoAddNewUsers: true })) {
    const role = Object.assign(new EnvUserPermission(), { env, user, role: EnvUserRole.User });
    em.persist(role);
    audit({ targetType: 'EnvUserPermission', targetId: role.id, envId: env.id, after: snapshot(role) });
  }
}

/** Who may create a user with these rights: site admins; users of auth level 1 or more (Lighthouse), up to their own level. */
function checkCreator(g: Grants, rights: { isAdmin: boolean; authLevel: number }): void {
  if (g.siteAdmin) return;
  const level = callerUser(g)?.authLevel ?? 0;
  if (level < 1) throw forbidden('Only site admins and users with an auth level of at least 1 may create users');
  if (rights.isAdmin) throw forbidden('Only site admins may create site admins');
  if (rights.authLevel > level) throw forbidden(`You may give an auth level up to your own (${level})`);
}

/** The email's local part, cleaned to a username, with "-2", "-3"… until it is free. */
export async function uniqueUsername(em: EntityManager, email: string): Promise<string> {
  const base =
    email
      .split('@')[0]
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[-._]+|[-._]+$/g, '') || 'user';
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? base : `${base}-${n}`;
    if ((await em.count(User, { username: candidate })) === 0) return candidate;
  }
}

function assertRequested(user: User, verb: string): void {
  if (user.approvalState !== UserApprovalState.ACCESS_REQUESTED) {
    throw conflict(`Only a requested access can be ${verb}; the user's state is ${user.approvalState}`);
  }
}

/** A site admin's answer to an access request. */
function answer(tx: ServiceContext, audit: Audit, g: Grants, user: User, change: Partial<User>): User {
  // site admins are users
  const by = tx.em.getReference(User, callerUser(g)!.id);
  return recordChange(audit, user, (u) => Object.assign(u, change, { approvalAnsweredBy: by }));
}

/** Kubportal's "new namespace" approval: the records of the namespace and service account provisioned in the cluster. */
async function createNamespace(
  tx: ServiceContext,
  audit: Audit,
  cluster: K8sCluster,
  names: { namespace: string; serviceAccount: string },
  provisioned: ProvisionedAccount,
): Promise<K8sServiceAccount> {
  const namespace = Object.assign(new K8sNamespace(), { cluster, name: names.namespace, uid: provisioned.namespaceUid });
  const account = Object.assign(new K8sServiceAccount(), { name: names.serviceAccount, uid: provisioned.serviceAccountUid, namespace });
  tx.em.persist([namespace, account]);
  await tx.em.flush();
  const envId = cluster.env?.id ?? null;
  audit({ targetType: 'K8sNamespace', targetId: namespace.id, envId, after: snapshot(namespace) });
  audit({ targetType: 'K8sServiceAccount', targetId: account.id, envId, after: snapshot(account) });
  return account;
}
