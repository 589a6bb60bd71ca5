import { copyFileSync, cpSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { findPackageJSON } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * A template: a migrated, empty embedded database that a new data folder starts as, rather than running initdb and
 * every migration (seconds of WebAssembly). A folder holding the database (`data/`) and what it was made with
 * (`manifest.json`).
 */

/**
 * The build's template, next to the compiled code: dist/embedded-template, written by `npm run build`
 * (src/scripts/embedded-template.ts). The sources the tests run from have none: there a new folder is made from scratch.
 */
export const BUILD_TEMPLATE = fileURLToPath(new URL('../../embedded-template', import.meta.url));

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

function storedManifest(template: string): TemplateManifest | undefined {
  try {
    return JSON.parse(readFileSync(join(template, 'manifest.json'), 'utf8')) as TemplateManifest;
  } catch {
    return undefined;
  }
}

/** True when `template` is what `manifest` describes: nothing to rebuild. */
export function templateIsCurrent(template: string, manifest: TemplateManifest): boolean {
  return JSON.stringify(storedManifest(template)) === JSON.stringify(manifest);
}

/**
 * Copies `template` into `dataDir`, a folder that holds no database yet, when the template fits this code: made by
 * the installed PGlite, holding no migration that `migrations` does not list (newer ones are applied after, as on any
 * start). PG_VERSION, which marks a folder as holding a database, is copied last: a copy cut short is made again on
 * the next start. Returns whether it copied.
 */
export function copyTemplate(template: string, dataDir: string, migrations: string[]): boolean {
  const stored = storedManifest(template);
  const data = join(template, 'data');
  if (!stored || !existsSync(data)) return false;
  if (stored.pglite !== manifestFor(migrations).pglite || !stored.migrations.every((name) => migrations.includes(name))) return false;
  const marker = join(data, 'PG_VERSION');
  cpSync(data, dataDir, { recursive: true, filter: (source) => source !== marker });
  copyFileSync(marker, join(dataDir, 'PG_VERSION'));
  return true;
}

/**
 * Writes `template` anew: `fill` creates the database in the folder it is given. The new template replaces the old
 * one once it is whole, so a build cut short leaves the old one (or none) rather than half of one.
 */
export async function writeTemplate(template: string, manifest: TemplateManifest, fill: (dataDir: string) => Promise<void>): Promise<void> {
  const building = `${template}.building`;
  rmSync(building, { recursive: true, force: true });
  await fill(join(building, 'data'));
  writeFileSync(join(building, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  rmSync(template, { recursive: true, force: true });
  renameSync(building, template);
}
