import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@jest/globals';
import { parse } from 'yaml';
import { loadConfig } from '../src/config/config.js';
import { ROOT } from './support/build.js';

/* docker-compose.yml as someone runs it unread: pinned images, no secret shipped in it, every variable one Berth reads. */

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { image?: string; environment?: Record<string, string> }> };

test('every image is pinned to a version (a tag with a minor version), and the Dockerfile builds on a pinned Node', () => {
  const images = Object.values(compose.services).flatMap((s) => (s.image ? [s.image] : []));
  expect(images.length).toBeGreaterThan(0);
  for (const image of images) expect(image).toMatch(/^[a-z0-9./-]+:\d+\.\d+(\.\d+)?(-[a-z0-9]+)?$/);
  const froms = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').match(/^FROM \S+/gm) ?? [];
  expect(froms.length).toBeGreaterThan(0);
  for (const from of froms) expect(from).toMatch(/^FROM node:\d+\.\d+\.\d+-/);
});

test('the database password, the JWT key and the encryption keys are required from the environment, never written in the file', () => {
  const berth = compose.services.berth.environment!;
  const postgres = compose.services.postgres.environment!;
  expect(postgres.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?[^}]+\}$/);
  expect(berth.DATABASE_URL).toMatch(/^postgres:\/\/berth:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432\/berth$/);
  expect(berth.BERTH_JWT_SECRET).toMatch(/^\$\{BERTH_JWT_SECRET:\?[^}]+\}$/);
  expect(berth.BERTH_ENCRYPTION_KEYS).toMatch(/^\$\{BERTH_ENCRYPTION_KEYS:\?[^}]+\}$/);
});

test("Berth's environment names only variables Berth reads, and is valid once the required ones are given", () => {
  const berth = compose.services.berth.environment!;
  // compose's ${VAR:?…} and ${VAR:-default}, filled as a user would
  const given: Record<string, string> = {
    POSTGRES_PASSWORD: 'pw',
    BERTH_JWT_SECRET: 'x'.repeat(32),
    BERTH_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32).toString('base64')}`,
    BERTH_ADMIN_PASSWORD: 'choose-one',
  };
  const env = Object.fromEntries(
    Object.entries(berth).map(([name, value]) => [name, value.replace(/\$\{(\w+)(?::[?-]([^}]*))?\}/g, (_, variable: string, fallback?: string) => given[variable] ?? fallback ?? '')]),
  );
  const config = loadConfig(env);
  for (const name of Object.keys(berth)) expect(Object.keys(config)).toContain(name);
});
