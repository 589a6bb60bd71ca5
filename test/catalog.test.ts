import { kindNameFromRepo } from '../src/catalog/kind-name.js';
import { compileTagFormat, parseTag, toJsPattern } from '../src/catalog/tag-format.js';
import { DeploymentKind, Env, HelmRegistry, HelmTagFormat } from '../src/entities/index.js';
import { EnvUserRole, HelmRegistryProvider } from '../src/entities/enums.js';
import { countRows, expectError, expectUnchanged } from './support/assertions.js';
import { build, inCreationOrder, persist, unique } from './support/fixtures.js';
import { createUser, grantEnvRole, type Caller } from './support/identities.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
let admin: Record<string, string>;
/** an env Admin: not a site admin, so refused on the catalog */
let envAdmin: Caller;
beforeAll(async () => {
  server = await startTestServer();
  admin = await server.adminAuth();
  const [env] = await persist(server, build(Env, { name: 'catalog-env' }));
  envAdmin = await createUser(server);
  await grantEnvRole(server, env.id, { userId: envAdmin.id }, EnvUserRole.Admin);
});
afterAll(() => server?.stop());

const RENAME = `mutation ($id: ID!, $name: String!) { renameDeploymentKind(id: $id, name: $name) { id name } }`;
const CREATE_REGISTRY = `mutation ($input: CreateHelmRegistryInput!) {
  createHelmRegistry(input: $input) { id domainName repoName provider faIcon available kind { id name } } }`;
const SET_ICON = `mutation ($id: ID!, $icon: String!) { setHelmRegistryIcon(id: $id, faIcon: $icon) { id faIcon } }`;
const CREATE_FORMAT = `mutation ($p: String!) { createHelmTagFormat(pattern: $p) { id pattern } }`;
const DELETE_FORMAT = `mutation ($id: ID!) { deleteHelmTagFormat(id: $id) }`;
const REGISTER = `mutation ($input: RegisterHelmChartInput!) {
  registerHelmChart(input: $input) {
    id imageTag imageDigest available features valuesUi parsedVersion parsedRevision parsedBranch parsedCommit tagFormat { id } helmRegistry { id } } }`;

const call = (document: string, variables: object, headers: Record<string, string>) => server.gql<any, object>(document, variables, headers);

/** What these mutations may write; a refused call must leave it exactly as it was. */
const CATALOG_TABLES = ['deployment_kinds', 'helm_registries', 'helm_tag_formats', 'helm_charts', 'audit_records'];

const newKind = async (name = `Kind${unique()}`) => (await persist(server, build(DeploymentKind, { name })))[0];
const newRegistry = async () =>
  (await persist(server, build(HelmRegistry, { domainName: 'registry.example.com', repoName: `repo-${unique()}`, kind: await newKind(), provider: HelmRegistryProvider.Oci })))[0];

describe('the rules on their own', () => {
  test.each([
    ['word', 'Word'],
    ['word-chart', 'Word'],
    ['word-charts', 'Word'],
    ['two-words-chart', 'TwoWords'],
    ['two_words', 'TwoWords'],
    ['chart-not-last', 'ChartNotLast'],
    ['three-word-kind', 'ThreeWordKind'],
  ])('registry repo %s → kind %s', (repo, kind) => expect(kindNameFromRepo(repo)).toBe(kind));

  test('Rust/Python named groups and back-references become JavaScript ones; escaped parentheses are left alone', () => {
    expect(toJsPattern('^(?P<version>[0-9.]+)-(?P=version)$')).toBe('^(?<version>[0-9.]+)-\\k<version>$');
    expect(toJsPattern('\\(?P<x>')).toBe('\\(?P<x>');
    expect(toJsPattern('\\\\(?P<branch>.+)')).toBe('\\\\(?<branch>.+)');
  });

  test.each([
    ['(?P<version>', /not a valid regular expression/],
    ['^[0-9]+$', /at least one named group/],
    ['(?<version>.+)-(?<build>.+)', /Unknown named group\(s\) build/],
    [`(?<version>${'a'.repeat(500)})`, /at most 500/],
    ['   ', /must not be empty/],
  ])('pattern %s is refused', (pattern, reason) => {
    expect(() => compileTagFormat(pattern)).toThrow(reason);
  });

  test('the first format that matches the whole tag wins', () => {
    const formats = [{ pattern: '^(?P<version>\\d+\\.\\d+\\.\\d+)$' }, { pattern: '(?<version>[^-]+)-(?<branch>[^-]+)-(?<commit>[0-9a-f]+)' }, { pattern: '(?<branch>.+)' }];
    expect(parseTag(formats, '1.2.3')).toEqual({ format: formats[0], parsed: { parsedVersion: '1.2.3', parsedRevision: null, parsedBranch: null, parsedCommit: null } });
    // the second format matches only part of "v1-main-abc1-extra": not a match, the third one wins
    expect(parseTag(formats, 'v1-main-abc1-extra')?.format).toBe(formats[2]);
    expect(parseTag(formats, 'v1-main-abc1')?.parsed).toEqual({ parsedVersion: 'v1', parsedRevision: null, parsedBranch: 'main', parsedCommit: 'abc1' });
    expect(parseTag(formats.slice(0, 1), 'latest')).toBeNull();
  });
});

describe('renameDeploymentKind', () => {
  test('a site admin renames a kind (trimmed); audited', async () => {
    const kind = await newKind();
    const name = `Renamed${unique()}`;
    const res = await call(RENAME, { id: kind.id, name: `  ${name} ` }, admin);
    expect(res.data.renameDeploymentKind).toEqual({ id: kind.id, name });
    expect(await server.sql(`select name from deployment_kinds where id = ?`, [kind.id])).toEqual([{ name }]);
    const [audit] = await server.sql<any>(`select before, after from audit_records where operation = 'renameDeploymentKind' and target_id = ?`, [kind.id]);
    expect([audit.before.name, audit.after.name]).toEqual([kind.name, name]);
  });

  test('an empty name is BAD_USER_INPUT, a taken one a CONFLICT, a missing kind NOT_FOUND; env Admins are FORBIDDEN', async () => {
    const kind = await newKind();
    const taken = await newKind();
    await expectUnchanged(server, CATALOG_TABLES, async () => {
      expectError(await call(RENAME, { id: kind.id, name: '  ' }, admin), 'BAD_USER_INPUT', 'name');
      expectError(await call(RENAME, { id: kind.id, name: taken.name }, admin), 'CONFLICT');
      expectError(await call(RENAME, { id: '00000000-0000-4000-8000-000000000000', name: 'X' }, admin), 'NOT_FOUND');
      expectError(await call(RENAME, { id: kind.id, name: 'Mine' }, envAdmin.headers), 'FORBIDDEN');
    });
  });
});

describe('createHelmRegistry', () => {
  test('without a kind, the kind is named after the repo: created once, then reused; defaults Ecr and question; audited', async () => {
    const repo = `two-words${unique()}`;
    const first = await call(CREATE_REGISTRY, { input: { domainName: ' registry.example.com ', repoName: `${repo}-chart` } }, admin);
    expect(first.errors).toBeUndefined();
    const kindName = kindNameFromRepo(repo);
    expect(first.data.createHelmRegistry).toMatchObject({ domainName: 'registry.example.com', repoName: `${repo}-chart`, provider: 'Ecr', faIcon: 'question', available: true, kind: { name: kindName } });
    const second = await call(CREATE_REGISTRY, { input: { domainName: 'other.example.com', repoName: `${repo}-charts`, provider: 'Oci', faIcon: 'database' } }, admin);
    expect(second.data.createHelmRegistry).toMatchObject({ provider: 'Oci', faIcon: 'database', kind: first.data.createHelmRegistry.kind });
    expect(await countRows(server, 'deployment_kinds', 'name = ?', [kindName])).toBe(1);
    const audits = await server.sql<{ target_type: string }>(`select target_type from audit_records where operation = 'createHelmRegistry' and request_id in
      (select request_id from audit_records where target_id = ?) order by target_type`, [first.data.createHelmRegistry.kind.id]);
    expect(audits.map((a) => a.target_type)).toEqual(['DeploymentKind', 'HelmRegistry']);
  });

  test('with a kind given, that kind is used', async () => {
    const kind = await newKind();
    const res = await call(CREATE_REGISTRY, { input: { domainName: 'registry.example.com', repoName: `any-${unique()}`, kindId: kind.id } }, admin);
    expect(res.data.createHelmRegistry.kind).toEqual({ id: kind.id, name: kind.name });
  });

  test('the same domain and repo twice is a CONFLICT', async () => {
    const input = { domainName: 'registry.example.com', repoName: `dup-${unique()}` };
    await call(CREATE_REGISTRY, { input }, admin);
    await expectUnchanged(server, CATALOG_TABLES, async () => expectError(await call(CREATE_REGISTRY, { input }, admin), 'CONFLICT'));
  });

  test.each([
    ['an icon with capitals', { faIcon: 'Database' }, 'input.faIcon'],
    ['an empty repo name', { repoName: ' ' }, 'input.repoName'],
    ['a repo name no kind can be named after', { repoName: '-chart' }, 'input.repoName'],
    ['a domain with spaces', { domainName: 'a b' }, 'input.domainName'],
    ['a kind id that is not a UUID', { kindId: 'k' }, 'input.kindId'],
  ])('%s is BAD_USER_INPUT and writes nothing', async (_, input, field) => {
    await expectUnchanged(server, CATALOG_TABLES, async () => {
      expectError(await call(CREATE_REGISTRY, { input: { domainName: 'registry.example.com', repoName: `bad-${unique()}`, ...input } }, admin), 'BAD_USER_INPUT', field);
    });
  });

  test('env Admins are FORBIDDEN; a missing kind is NOT_FOUND', async () => {
    await expectUnchanged(server, CATALOG_TABLES, async () => {
      expectError(await call(CREATE_REGISTRY, { input: { domainName: 'registry.example.com', repoName: `x-${unique()}` } }, envAdmin.headers), 'FORBIDDEN');
      expectError(await call(CREATE_REGISTRY, { input: { domainName: 'r', repoName: 'r', kindId: '00000000-0000-4000-8000-000000000000' } }, admin), 'NOT_FOUND');
    });
  });
});

describe('setHelmRegistryIcon', () => {
  test('a site admin sets the icon; audited', async () => {
    const registry = await newRegistry();
    const res = await call(SET_ICON, { id: registry.id, icon: 'box-open' }, admin);
    expect(res.data.setHelmRegistryIcon).toEqual({ id: registry.id, faIcon: 'box-open' });
    expect(await server.sql(`select fa_icon from helm_registries where id = ?`, [registry.id])).toEqual([{ fa_icon: 'box-open' }]);
    expect(await countRows(server, 'audit_records', `operation = 'setHelmRegistryIcon' and target_id = ?`, [registry.id])).toBe(1);
  });

  test('a bad icon is BAD_USER_INPUT on faIcon; env Admins are FORBIDDEN', async () => {
    const registry = await newRegistry();
    await expectUnchanged(server, CATALOG_TABLES, async () => {
      expectError(await call(SET_ICON, { id: registry.id, icon: 'fa fa-box' }, admin), 'BAD_USER_INPUT', 'faIcon');
      expectError(await call(SET_ICON, { id: registry.id, icon: 'x'.repeat(65) }, admin), 'BAD_USER_INPUT', 'faIcon');
      expectError(await call(SET_ICON, { id: registry.id, icon: 'box' }, envAdmin.headers), 'FORBIDDEN');
    });
  });
});

describe('createHelmTagFormat and deleteHelmTagFormat', () => {
  test('a site admin adds a format in Rust syntax, stored as written; audited', async () => {
    const pattern = `^(?P<version>[0-9]+\\.[0-9]+\\.[0-9]+)-(?P<revision>[0-9]+)-${unique()}$`;
    const res = await call(CREATE_FORMAT, { p: pattern }, admin);
    expect(res.data.createHelmTagFormat.pattern).toBe(pattern);
    expect(await countRows(server, 'helm_tag_formats', 'pattern = ?', [pattern])).toBe(1);
    expect(await countRows(server, 'audit_records', `operation = 'createHelmTagFormat' and target_id = ?`, [res.data.createHelmTagFormat.id])).toBe(1);
  });

  test.each([
    ['an invalid regex', '(?<version>[0-9'],
    ['no named group', '^[0-9]+$'],
    ['an unknown group name', '^(?<version>.+)-(?<flavor>.+)$'],
    ['a pattern over 500 characters', `(?<version>${'x'.repeat(500)})`],
  ])('%s is BAD_USER_INPUT on pattern, with the reason, and writes nothing', async (_, pattern) => {
    await expectUnchanged(server, CATALOG_TABLES, async () => {
      const res = await call(CREATE_FORMAT, { p: pattern }, admin);
      expectError(res, 'BAD_USER_INPUT', 'pattern');
      expect(res.errors![0].message.length).toBeGreaterThan(20);
    });
  });

  test('a duplicate is a CONFLICT; env Admins are FORBIDDEN', async () => {
    const pattern = `^(?<branch>.+)-${unique()}$`;
    await call(CREATE_FORMAT, { p: pattern }, admin);
    await expectUnchanged(server, CATALOG_TABLES, async () => {
      expectError(await call(CREATE_FORMAT, { p: pattern }, admin), 'CONFLICT');
      expectError(await call(CREATE_FORMAT, { p: `^(?<commit>.+)-${unique()}$` }, envAdmin.headers), 'FORBIDDEN');
    });
  });

  test('deleting a format keeps the fields parsed with it on its charts; their tag format becomes null', async () => {
    const tag = `7.1.0-${unique()}`;
    const [format] = await persist(server, build(HelmTagFormat, { pattern: `^(?<version>[0-9.]+)-${tag.slice(6)}$` }));
    const registry = await newRegistry();
    const chart = await call(REGISTER, { input: { helmRegistryId: registry.id, imageDigest: 'sha256:del', imageTag: tag } }, admin);
    expect(chart.data.registerHelmChart.tagFormat).toEqual({ id: format.id });
    await expectUnchanged(server, CATALOG_TABLES, async () => expectError(await call(DELETE_FORMAT, { id: format.id }, envAdmin.headers), 'FORBIDDEN'));
    const res = await call(DELETE_FORMAT, { id: format.id }, admin);
    expect(res).toMatchObject({ data: { deleteHelmTagFormat: format.id } });
    expect(await server.sql(`select tag_format_id, parsed_version from helm_charts where id = ?`, [chart.data.registerHelmChart.id])).toEqual([
      { tag_format_id: null, parsed_version: '7.1.0' },
    ]);
    expect(await countRows(server, 'audit_records', `operation = 'deleteHelmTagFormat' and target_id = ?`, [format.id])).toBe(1);
  });
});

describe('registerHelmChart', () => {
  const make = inCreationOrder(Date.now() - 3_600_000);
  let registry: HelmRegistry;
  let formats: HelmTagFormat[];
  beforeAll(async () => {
    registry = await newRegistry();
    // the older format wins when both match
    formats = await persist(
      server,
      make(HelmTagFormat, { pattern: '^v(?P<version>[0-9]+\\.[0-9]+\\.[0-9]+)-(?P<branch>[a-z]+)-(?P<commit>[0-9a-f]{7})$' }),
      make(HelmTagFormat, { pattern: '^v(?<version>.+)$' }),
    );
  });

  test('the tag is parsed by the oldest matching format; chart-ext documents are stored; audited', async () => {
    const features = { cardinality: 'OnePerCluster' };
    const valuesUi = { inputs: [{ id: 'replicas', type: 'number' }] };
    const res = await call(REGISTER, { input: { helmRegistryId: registry.id, imageDigest: 'sha256:aaa', imageTag: 'v1.4.2-main-abc1234', features, valuesUi } }, admin);
    expect(res.errors).toBeUndefined();
    expect(res.data.registerHelmChart).toMatchObject({
      imageTag: 'v1.4.2-main-abc1234',
      available: true,
      features,
      valuesUi,
      parsedVersion: '1.4.2',
      parsedRevision: null,
      parsedBranch: 'main',
      parsedCommit: 'abc1234',
      tagFormat: { id: formats[0].id },
      helmRegistry: { id: registry.id },
    });
    const [row] = await server.sql(`select parsed_version, parsed_branch, tag_format_id, features from helm_charts where id = ?`, [res.data.registerHelmChart.id]);
    expect(row).toEqual({ parsed_version: '1.4.2', parsed_branch: 'main', tag_format_id: formats[0].id, features });
    expect(await countRows(server, 'audit_records', `operation = 'registerHelmChart' and target_id = ?`, [res.data.registerHelmChart.id])).toBe(1);
  });

  test('a tag only the newer format matches; a tag none matches is stored unparsed', async () => {
    const newer = await call(REGISTER, { input: { helmRegistryId: registry.id, imageDigest: 'sha256:bbb', imageTag: 'v2-rc', available: false } }, admin);
    expect(newer.data.registerHelmChart).toMatchObject({ parsedVersion: '2-rc', parsedBranch: null, tagFormat: { id: formats[1].id }, available: false });
    const none = await call(REGISTER, { input: { helmRegistryId: registry.id, imageDigest: 'sha256:ccc', imageTag: 'latest' } }, admin);
    expect(none.data.registerHelmChart).toMatchObject({ parsedVersion: null, parsedBranch: null, parsedCommit: null, tagFormat: null });
  });

  test.each([
    ['features that are not an object', { features: ['Many'] }, 'input.features'],
    ['an unknown cardinality', { features: { cardinality: 'One' } }, 'input.features'],
    ['an unknown cardinality under spec', { features: { spec: { cardinality: 'Few' } } }, 'input.features'],
    ['valuesUi without inputs', { valuesUi: { fields: [] } }, 'input.valuesUi'],
    ['a valuesUi input without an id', { valuesUi: { inputs: [{ id: 'a' }, { type: 'text' }] } }, 'input.valuesUi'],
    ['an empty tag', { imageTag: ' ' }, 'input.imageTag'],
    ['a tag over 128 characters', { imageTag: 'v'.repeat(129) }, 'input.imageTag'],
    ['an empty digest', { imageDigest: '' }, 'input.imageDigest'],
    ['a registry id that is not a UUID', { helmRegistryId: 'r' }, 'input.helmRegistryId'],
  ])('%s is BAD_USER_INPUT and writes nothing', async (_, input, field) => {
    await expectUnchanged(server, CATALOG_TABLES, async () => {
      expectError(await call(REGISTER, { input: { helmRegistryId: registry.id, imageDigest: 'sha256:bad', imageTag: 'v1.0.0', ...input } }, admin), 'BAD_USER_INPUT', field);
    });
  });

  test('a tag already registered in the registry is a CONFLICT, even with another digest', async () => {
    const input = { helmRegistryId: registry.id, imageDigest: 'sha256:first', imageTag: `v5.0.0-${unique()}` };
    expect((await call(REGISTER, { input }, admin)).errors).toBeUndefined();
    await expectUnchanged(server, CATALOG_TABLES, async () => {
      expectError(await call(REGISTER, { input: { ...input, imageDigest: 'sha256:second' } }, admin), 'CONFLICT');
    });
  });

  test('env Admins are FORBIDDEN; a missing registry is NOT_FOUND', async () => {
    await expectUnchanged(server, CATALOG_TABLES, async () => {
      expectError(await call(REGISTER, { input: { helmRegistryId: registry.id, imageDigest: 'sha256:x', imageTag: 'v1.0.0' } }, envAdmin.headers), 'FORBIDDEN');
      expectError(await call(REGISTER, { input: { helmRegistryId: '00000000-0000-4000-8000-000000000000', imageDigest: 'sha256:x', imageTag: 'v1' } }, admin), 'NOT_FOUND');
    });
  });
});
