import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261122101952_Initial } from './Migration20261122101952_Initial.js';
import { Migration20261122105133_Issue3Writes } from './Migration20261122105133_Issue3Writes.js';
import { Migration20261122122948_Issue4Events } from './Migration20261122122948_Issue4Events.js';
import { Migration20261205050000_Issue9Scope } from './Migration20261205050000_Issue9Scope.js';
import { Migration20261210090000_KubportalProvisioning } from './Migration20261210090000_KubportalProvisioning.js';
import { Migration20261215090000_TaskWorker } from './Migration20261215090000_TaskWorker.js';
import { Migration20261216090000_ChartDiscovery } from './Migration20261216090000_ChartDiscovery.js';
import { Migration20261220090000_LoginThrottle } from './Migration20261220090000_LoginThrottle.js';
import { Migration20261225090000_NumericAliases } from './Migration20261225090000_NumericAliases.js';
import { Migration20261227090000_PorterAllowedClusters } from './Migration20261227090000_PorterAllowedClusters.js';
import { Migration20261228090000_StorjApiKeys } from './Migration20261228090000_StorjApiKeys.js';

// Listed explicitly (no glob discovery); append new migrations at the end.
export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261122101952_Initial', class: Migration20261122101952_Initial },
  { name: 'Migration20261122105133_Issue3Writes', class: Migration20261122105133_Issue3Writes },
  { name: 'Migration20261122122948_Issue4Events', class: Migration20261122122948_Issue4Events },
  { name: 'Migration20261205050000_Issue9Scope', class: Migration20261205050000_Issue9Scope },
  { name: 'Migration20261210090000_KubportalProvisioning', class: Migration20261210090000_KubportalProvisioning },
  { name: 'Migration20261215090000_TaskWorker', class: Migration20261215090000_TaskWorker },
  { name: 'Migration20261216090000_ChartDiscovery', class: Migration20261216090000_ChartDiscovery },
  { name: 'Migration20261220090000_LoginThrottle', class: Migration20261220090000_LoginThrottle },
  { name: 'Migration20261225090000_NumericAliases', class: Migration20261225090000_NumericAliases },
  { name: 'Migration20261227090000_PorterAllowedClusters', class: Migration20261227090000_PorterAllowedClusters },
  { name: 'Migration20261228090000_StorjApiKeys', class: Migration20261228090000_StorjApiKeys },
];
