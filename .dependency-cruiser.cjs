/**
 * Which folder may import which (docs/architecture.md, "Layers"): a folder imports only folders listed before it,
 * so dependencies point down and no two folders depend on each other. Checked by `npm run check:imports` in CI.
 */
const ORDER = [
  // ground
  'src/errors',
  'src/config',
  'src/logging',
  'src/util',
  // entities and db
  'src/entities',
  'src/db',
  // request plumbing: the context a service call runs in, loaders, filters
  'src/request',
  // auth, policy, events, domain rules
  'src/catalog',
  'src/auth',
  'src/policy',
  'src/deployments',
  'src/events',
  'src/k8s',
  'src/registries',
  // services
  'src/services',
  // adapters
  'src/graphql',
  'resolvers',
  'src/workers',
  'src/rest',
  // what the composition root serves at /metrics: reads the layers below
  'src/metrics',
  // the composition root, and the commands built on it
  'src/server',
  'src/scripts',
  'src/main.ts',
];

const path = (folder) => `^${folder.replace('.', '\\.')}(/|$)`;

module.exports = {
  forbidden: [
    ...ORDER.slice(0, -1).map((folder, i) => ({
      name: `${folder}-imports-down`,
      comment: `${folder} may import only what is listed before it in .dependency-cruiser.cjs`,
      severity: 'error',
      from: { path: path(folder) },
      to: { path: ORDER.slice(i + 1).map(path) },
    })),
    {
      name: 'no-circular',
      comment: 'modules that import each other, even within a folder; entities excepted, as relations point both ways',
      severity: 'error',
      from: { pathNot: path('src/entities') },
      to: { circular: true },
    },
    {
      name: 'no-unlisted-folder',
      comment: 'every source folder has a place in the order',
      severity: 'error',
      from: { path: '^(src|resolvers)/', pathNot: ORDER.map(path) },
      to: {},
    },
    {
      name: 'no-import-of-unlisted-folder',
      comment: 'every source folder has a place in the order',
      severity: 'error',
      from: {},
      to: { path: '^(src|resolvers)/', pathNot: ORDER.map(path) },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    // dependency-cruiser reads TypeScript through the compiler's API, which TypeScript 7.0 lacks; swc parses it instead
    parser: 'swc',
  },
};
