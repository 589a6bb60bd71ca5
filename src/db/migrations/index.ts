import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261122101952_Initial } from './Migration20261122101952_Initial.js';

// Listed explicitly (no glob discovery); append new migrations at the end.
export const migrationsList: MigrationObject[] = [{ name: 'Migration20261122101952_Initial', class: Migration20261122101952_Initial }];
