import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest package.json above this module: the same answer from src/ (tests) and dist/ (built). */
function readPackageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

const version = readPackageVersion();

/** Public facts about this server (no authentication needed, as Platz's GET /server). */
export class ServerInfoService {
  info(): { version: string } {
    return { version };
  }
}
