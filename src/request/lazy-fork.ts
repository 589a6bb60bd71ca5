import type { SqlEntityManager } from '@mikro-orm/sql';

/**
 * A request's unit of work, forked from the ORM's entity manager when first used. Most reads never need one: they
 * read rows (src/request/rows.ts) and find their caller in the credential cache, and a fork costs a few percent of
 * such a request's CPU and much of its garbage.
 */
export class LazyFork {
  private forked?: SqlEntityManager;

  /**
   * `root`: what the unit of work is forked from. `reader`: an entity manager of the same ORM whose unit of work
   * nothing uses (shared by every request): metadata, the connection, statements outside any transaction.
   */
  constructor(
    private readonly root: SqlEntityManager,
    private readonly shared: SqlEntityManager,
  ) {}

  /** the unit of work, forked now if it was not yet */
  get em(): SqlEntityManager {
    return (this.forked ??= this.root.fork() as SqlEntityManager);
  }

  /** what reads rows: the unit of work once there is one (a transaction of its own would be on it), else the shared reader */
  get reader(): SqlEntityManager {
    return this.forked ?? this.shared;
  }
}
