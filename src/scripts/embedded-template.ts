// The last step of npm run build: dist/embedded-template, the migrated empty database a new embedded data folder
// starts as (src/db/embedded-template.ts). Nothing to do when the template holds the current migrations and was made
// by the installed PGlite, so a build with nothing new stays quick.
import { BUILD_TEMPLATE, manifestFor, templateIsCurrent, writeTemplate } from '../db/embedded-template.js';
import { migrationsList } from '../db/migrations/index.js';

const manifest = manifestFor(migrationsList.map((m) => m.name));
if (!templateIsCurrent(BUILD_TEMPLATE, manifest)) {
  // the ORM and the engine load only when there is something to build
  const { migratedDump, openMigrated } = await import('../db/orm.js');
  await writeTemplate(BUILD_TEMPLATE, manifest, async (dataDir) => {
    // migrated in memory, several times quicker than on disk, then written out as a folder (where nothing is pending)
    const orm = await openMigrated({ kind: 'pglite', dataDir, loadDataDir: await migratedDump() });
    await orm.close(true);
  });
  console.log(`wrote the embedded database template (${manifest.migrations.length} migrations, PGlite ${manifest.pglite})`);
}
