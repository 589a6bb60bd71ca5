/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 60000,
  // test files in parallel, each on a database of its own; the workers of jest's default (cores - 1) leave a 2-core machine half idle
  maxWorkers: Number(process.env.TEST_WORKERS) || 2,
  // a worker past this much heap after a test file is replaced: one process holding every file's modules ran out of heap on the PostgreSQL pass
  workerIdleMemoryLimit: '1536MB',
  // the migrated schema, built once per run and copied by each test file's database (test/support/database.ts)
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // the project is native ESM ("type": "module"); jest runs with --experimental-vm-modules
  extensionsToTreatAsEsm: ['.ts'],
  // sources import './x.js' (NodeNext style); map back to the .ts file
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  // @fastify/static (the IDE's and the API reference's files) require()s content-disposition, which is ESM only: node
  // loads it (require of ESM), jest's module runtime on node 22 does not, so that one package is compiled to CommonJS
  transformIgnorePatterns: ['^(?!.*/node_modules/content-disposition/).*/node_modules/'],
  transform: {
    '/node_modules/content-disposition/.+\\.js$': ['@swc/jest', { module: { type: 'commonjs' } }],
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
          target: 'es2022',
          keepClassNames: true,
        },
        module: { type: 'es6' },
        sourceMaps: 'inline',
      },
    ],
  },
};
