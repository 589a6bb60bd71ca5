import { createHash } from 'node:crypto';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { tooManyRequests } from '../errors/domain-error.js';
import type { Logger } from '../logging/logger.js';

/** When failed logins slow down and lock (LOGIN_* in src/config/config.ts). */
export interface LoginThrottlePolicy {
  /** failures of one username from one address before each further one delays the next attempt from there */
  freeFailures: number;
  /** failures of one username from one address within the window that lock that pair */
  maxFailures: number;
  /** failures of one username from any address within the window that lock the username */
  maxFailuresPerUsername: number;
  /** failures from one address, whatever the username, within the window that lock the address */
  maxFailuresPerAddress: number;
  windowSeconds: number;
  /** how long a lock holds, and the longest delay */
  lockSeconds: number;
}

/** Makes a limiter in the store the replicas share (src/auth/login-throttle-store.ts); keyPrefix keeps them apart. */
export type LimiterFactory = (options: { keyPrefix: string; points: number; duration: number; blockDuration: number }) => RateLimiterAbstract;

/** Keys past this length are hashed: the PostgreSQL store's keys are varchar(255), prefix included. */
const MAX_KEY_LENGTH = 200;

interface Counter {
  limiter: RateLimiterAbstract;
  key: string;
  /** what a lock by this counter is said to be on */
  scope: 'account' | 'address';
}

/**
 * Throttles password logins, following rate-limiter-flexible's login protection recipe: failures are counted per
 * username and address pair, per username and per address, in a store shared by the replicas. Past the free failures
 * each failure of a pair delays its next attempt (2 s, 4 s, 8 s …, at most the lock); reaching a maximum locks the
 * pair, username or address for the lock's duration. A refused attempt checks no password. Unknown usernames count
 * as known ones do, so refusals tell nothing of who exists.
 *
 * Every attempt is counted before its password is checked and given back once it proves right: attempts sent all at
 * once cannot slip past the count while their passwords are being checked.
 */
export class LoginThrottle {
  private readonly pair: RateLimiterAbstract;
  private readonly username: RateLimiterAbstract;
  private readonly address: RateLimiterAbstract;
  /** a pair's wait after a failure past the free ones, as a block; it counts nothing */
  private readonly delay: RateLimiterAbstract;

  constructor(
    limiter: LimiterFactory,
    private readonly policy: LoginThrottlePolicy,
    private readonly logger: Logger,
  ) {
    const { windowSeconds: duration, lockSeconds: blockDuration } = policy;
    this.pair = limiter({ keyPrefix: 'login_pair', points: policy.maxFailures, duration, blockDuration });
    this.username = limiter({ keyPrefix: 'login_username', points: policy.maxFailuresPerUsername, duration, blockDuration });
    this.address = limiter({ keyPrefix: 'login_address', points: policy.maxFailuresPerAddress, duration, blockDuration });
    this.delay = limiter({ keyPrefix: 'login_delay', points: 0, duration: blockDuration, blockDuration: 0 });
  }

  /**
   * Runs `verify` (the password check: the account when it holds, else undefined) unless the attempt is throttled,
   * in which case it throws TOO_MANY_REQUESTS with the seconds to wait. A right password clears the pair's failures.
   */
  async attempt<T>(username: string, address: string, verify: () => Promise<T | undefined>): Promise<T | undefined> {
    const login = username.toLowerCase();
    const pair: Counter = { limiter: this.pair, key: storeKey(`${login} ${address}`), scope: 'account' };
    const delayed = await this.delay.get(pair.key);
    if (delayed && delayed.consumedPoints > 0) this.refuse(username, address, 'account', delayed.msBeforeNext);

    const others: Counter[] = [
      { limiter: this.username, key: storeKey(login), scope: 'account' },
      { limiter: this.address, key: storeKey(address), scope: 'address' },
    ];
    const counters = [pair, ...others];
    const outcomes = await Promise.allSettled(counters.map((c) => c.limiter.consume(c.key)));
    const taken = counters.filter((_, i) => outcomes[i].status === 'fulfilled');
    if (taken.length < counters.length) {
      // no password is checked: the counts this attempt took are given back
      await giveBack(taken);
      const reasons = outcomes.map((o) => (o.status === 'rejected' ? (o.reason as unknown) : undefined));
      const storeError = reasons.find((reason) => reason !== undefined && !(reason instanceof RateLimiterRes));
      if (storeError) throw storeError;
      const waits = counters.flatMap((c, i) => (reasons[i] instanceof RateLimiterRes ? [{ scope: c.scope, ms: reasons[i].msBeforeNext }] : []));
      const longest = waits.reduce((a, b) => (b.ms > a.ms ? b : a));
      this.refuse(username, address, longest.scope, longest.ms);
    }

    let verified: T | undefined;
    try {
      verified = await verify();
    } catch (err) {
      // the check did not happen: nothing to count (and the store's own failure would hide this one)
      await giveBack(counters).catch(() => undefined);
      throw err;
    }
    if (verified !== undefined) {
      await Promise.all([this.pair.delete(pair.key), this.delay.delete(pair.key), giveBack(others)]);
      return verified;
    }
    const failures = (outcomes[0] as PromiseFulfilledResult<RateLimiterRes>).value.consumedPoints;
    this.logger.warn({ username, address, failures }, 'failed login');
    // at the maximum, the next attempt meets the lock instead
    if (failures > this.policy.freeFailures && failures < this.policy.maxFailures) {
      await this.delay.block(pair.key, Math.min(2 ** (failures - this.policy.freeFailures), this.policy.lockSeconds));
    }
    return undefined;
  }

  private refuse(username: string, address: string, scope: Counter['scope'], msBeforeNext: number): never {
    const seconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
    this.logger.info({ username, address, scope, retryAfter: seconds }, 'login refused: too many failures');
    throw tooManyRequests(`Too many failed logins ${scope === 'account' ? 'for this account' : 'from this address'}; try again in ${seconds} s`, seconds);
  }
}

const giveBack = (counters: Counter[]) => Promise.all(counters.map((c) => c.limiter.reward(c.key)));

const storeKey = (key: string) => (key.length <= MAX_KEY_LENGTH ? key : createHash('sha256').update(key).digest('hex'));
