import { randomBytes } from 'node:crypto';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { User } from '../entities/index.js';
import { UserApprovalState } from '../entities/enums.js';
import type { Logger } from '../logging/logger.js';
import { hashPassword } from './password.js';

/**
 * On a database with no admin, creates one: from BERTH_ADMIN_EMAIL/BERTH_ADMIN_PASSWORD, or with a
 * generated password printed once. Replicas starting together race harmlessly: the unique username wins.
 */
export async function ensureAdmin(
  em: SqlEntityManager,
  config: { BERTH_ADMIN_EMAIL?: string; BERTH_ADMIN_PASSWORD?: string },
  logger: Logger,
  print: (line: string) => void,
): Promise<void> {
  const fork = em.fork();
  if ((await fork.count(User, { isAdmin: true })) > 0) return;
  const email = config.BERTH_ADMIN_EMAIL ?? 'admin@berth.local';
  const generated = !config.BERTH_ADMIN_PASSWORD;
  const password = config.BERTH_ADMIN_PASSWORD ?? randomBytes(18).toString('base64url');
  const admin = Object.assign(new User(), {
    email,
    username: 'admin',
    displayName: 'Administrator',
    passwordHash: await hashPassword(password),
    isAdmin: true,
    isActive: true,
    authLevel: 100,
    approvalState: UserApprovalState.ACCESS_APPROVED,
  });
  fork.persist(admin);
  try {
    await fork.flush();
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException) return; // another replica created it
    throw err;
  }
  logger.info({ email }, 'created the first admin user');
  if (generated) print(`Admin login: username "admin" (or ${email}), password "${password}". Shown once; change it.`);
}
