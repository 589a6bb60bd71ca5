// Generates a migration from the entities: the diff between the committed migrations (applied to a
// fresh in-memory database) and the entity metadata. Usage: npm run migration:create -- Name
import { writeFileSync } from 'node:fs';
import { openOrm, migrate } from '../db/orm.js';

const name = process.argv[2];
if (!name) throw new Error('usage: npm run migration:create -- <Name>');
const scratch = { kind: 'pglite', dataDir: 'memory://' } as const;
const orm = await openOrm(scratch);
await migrate(orm, scratch);
const result = await orm.migrator.create('src/db/migrations', false, false, name);
if (!result.diff.up.length) console.log('no changes');
else {
  writeFileSync(`src/db/migrations/${result.fileName}`, result.code);
  console.log(`wrote src/db/migrations/${result.fileName}; add it to src/db/migrations/index.ts`);
}
await orm.close(true);
