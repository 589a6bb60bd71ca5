import { Field, InputType } from 'type-graphql';
import { HelmTagFormat } from '../entities/index.js';
import { compact, ReadService } from './read-service.js';

@InputType()
export class HelmTagFormatFilter {
  @Field({ nullable: true, description: 'exact' }) pattern?: string;
}

export class HelmTagFormatService extends ReadService<HelmTagFormat, HelmTagFormatFilter> {
  constructor() {
    // newest first, as Platz lists them
    super({ entity: HelmTagFormat, order: [{ field: 'createdAt', direction: 'DESC' }], where: (f) => compact({ pattern: f.pattern }) });
  }
}
