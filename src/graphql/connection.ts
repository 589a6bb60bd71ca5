import type { ClassType } from 'type-graphql';
import { ArgsType, Field, Int, ObjectType } from 'type-graphql';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type Page } from '../services/pagination.js';

@ObjectType({ description: 'Relay page information' })
export class PageInfo {
  @Field() hasNextPage!: boolean;
  @Field() hasPreviousPage!: boolean;
  @Field(() => String, { nullable: true }) startCursor!: string | null;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, description: `at most ${MAX_PAGE_SIZE}; ${DEFAULT_PAGE_SIZE} when neither first nor last is given` })
  first?: number;

  @Field(() => String, { nullable: true, description: 'a cursor from this list: return the rows after it' })
  after?: string;

  @Field(() => Int, { nullable: true, description: `at most ${MAX_PAGE_SIZE}` })
  last?: number;

  @Field(() => String, { nullable: true, description: 'a cursor from this list: return the rows before it' })
  before?: string;
}

/** Builds the Relay connection and edge types for a node type: FooConnection { edges { node cursor } pageInfo totalCount }. */
export function connectionType<T extends object>(node: ClassType<T>): ClassType<ConnectionShape<T>> {
  @ObjectType(`${node.name}Edge`)
  class Edge {
    @Field(() => node) node!: T;
    @Field() cursor!: string;
  }

  @ObjectType(`${node.name}Connection`)
  class Connection {
    @Field(() => [Edge]) edges!: Edge[];
    @Field(() => PageInfo) pageInfo!: PageInfo;
    private count!: () => Promise<number>;

    @Field(() => Int, { description: 'rows matching the filter; counted only when asked for' })
    totalCount(): Promise<number> {
      return this.count();
    }
  }
  return Connection as unknown as ClassType<ConnectionShape<T>>;
}

export type ConnectionShape<T> = Omit<Page<T>, 'totalCount'>;

/** Wraps a service page in the GraphQL connection object. */
export function toConnection<T>(page: Page<T>): ConnectionShape<T> {
  return { edges: page.edges, pageInfo: page.pageInfo, count: page.totalCount } as ConnectionShape<T>;
}
