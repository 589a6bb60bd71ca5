import { Field, InputType } from 'type-graphql';
import { WebApp } from '../entities/index.js';
import { compact, iContains, ReadService } from './read-service.js';

@InputType()
export class WebAppFilter {
  @Field({ nullable: true, description: 'case-insensitive substring' }) name?: string;
  @Field({ nullable: true }) linkShow?: boolean;
}

export class WebAppService extends ReadService<WebApp, WebAppFilter> {
  constructor() {
    super({
      entity: WebApp,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) => compact({ name: f.name ? iContains(f.name) : undefined, linkShow: f.linkShow }),
    });
  }
}
