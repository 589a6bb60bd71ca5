import { copyFileSync, cpSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { findPackageJSON } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A migrated, empty embedded database that a new data folder starts as, rather than running initdb and every migration
 * (seconds of WebAssembly): `npm run build` writes it next to the compiled code, in dist/embedded-template
 * (src/scripts/embedded-template.ts). The sources the tests run from have none, so there a new folder is made from
 * scratch.
 */
export const TEMPLATE_DIR = fileURLToPath(new URL('../../embedded-template', import.meta.url));
const DATA = join(TEMPLATE_DIR, 'data');
const MANIFEST = join(TEMPLATE_DIR, 'manifest.json');

/** What a template was made with: the PGlite version (its data format) and the migrations it holds, in order. */
export interface TemplateManifest {
  pglite: string;
  migrations: string[];
}

/** The manifest of a template made now, by this code, holding `migrations`. */
export function manifestFor(migrations: string[]): TemplateManifest {
  const pglite = findPackageJSON('@electric-sql/pglite', import.meta.url);
  if (!pglite) throw new Error('@electric-sql/pglite is not installed');
  return { pglite: (JSON.parse(readFileSync(pglite, 'utf8')) as { version: string }).version, migrations };
}

function storedManifest(): TemplateManifest | undefined {
  try {
    return JSON.parse(readFileSync(MANIFEST, 'utf8')) as TemplateManifest;
  } catch {
    return undefined;
  }
}

/** True when the stored template is what `manifest` describes: nothing to rebuild. */
export function templateIsCurrent(manifest: TemplateManifest): boolean {
  return JSON.stringify(storedManifest()) === JSON.stringify(manifest);
}

/**
 * Copies the template into `dataDir`, a folder that holds no database yet, when the template fits this code: made by
 * the same PGlite, holding no migration that `migrations` does not list (newer ones are applied after, as on any
 * start). PG_VERSION, which marks a folder as holding a database, is copied last: a copy cut short is made again on
 * the next start. Returns whether it copied.
 */
export function copyTemplate(dataDir: string, migrations: string[]): boolean {
  const stored = storedManifest();
  if (!stored || !existsSync(DATA)) return false;
  const { pglite } = manifestFor(migrations);
  if (stored.pglite !== pglite || !stored.migrations.every((name) => migrations.includes(name))) return false;
  const marker = join(DATA, 'PG_VERSION');
  cpSync(DATA, dataDir, { recursive: true, filter: (source) => source !== marker });
  copyFileSync(marker, join(dataDir, 'PG_VERSION'));
  return true;
}

/**
 * Makes a new template: `fill` creates the database in the folder it is given; the template replaces the old one
 * once it is whole, so a build cut short leaves the old one (or none) rather than half of one.
 */
export async function writeTemplate(manifest: TemplateManifest, fill: (dataDir: string) => Promise<void>): Promise<void> {
  const building = `${TEMPLATE_DIR}.building`;
  rmSync(building, { recursive: true, force: true });
  await fill(join(building, 'data'));
  writeFileSync(join(building, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  rmSync(TEMPLATE_DIR, { recursive: true, force: true });
  renameSync(building, TEMPLATE_DIR);
}
