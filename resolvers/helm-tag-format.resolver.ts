import { Resolver } from 'type-graphql';
import { HelmTagFormat } from '../src/entities/index.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { HelmTagFormatFilter } from '../src/services/helm-tag-format.service.js';

@Resolver(() => HelmTagFormat)
export class HelmTagFormatResolver extends ReadResolver({
  node: HelmTagFormat,
  filter: HelmTagFormatFilter,
  single: 'helmTagFormat',
  plural: 'helmTagFormats',
  service: (s) => s.helmTagFormats,
}) {}
