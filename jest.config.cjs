// Test tiers, selected by file suffix (README, "Tests").
// @swc/jest compiles TypeScript and the ESM-only packages (@nestjs, @nats-io, p-limit...) to CommonJS for Jest.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
  },
];

const workspaces = {
  contracts: 'libs/contracts',
  execution: 'libs/execution',
  observability: 'libs/observability',
  bus: 'libs/bus',
  client: 'libs/client',
  orchestrator: 'services/orchestrator',
  dispatcher: 'services/dispatcher',
  results: 'services/results',
  console: 'apps/console',
  cli: 'apps/cli',
  testing: 'libs/testing',
};

const moduleNameMapper = {
  '^(\\.{1,2}/.*)\\.js$': '$1',
  ...Object.fromEntries(
    Object.entries(workspaces).map(([name, dir]) => [
      `^@orchestra/${name}$`,
      `<rootDir>/${dir}/src/index.ts`,
    ]),
  ),
};

const project = (displayName, suffix, extra = {}) => ({
  displayName,
  testEnvironment: 'node',
  rootDir: __dirname,
  roots: ['<rootDir>/libs', '<rootDir>/services', '<rootDir>/apps', '<rootDir>/bench', '<rootDir>/test'],
  testMatch: [`**/*.${suffix}.spec.ts`],
  transform: { '^.+\\.(t|j|mj)s$': swc },
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|@nats-io|uuid|commander|p-limit|yocto-queue)/)'],
  moduleNameMapper,
  ...extra,
});

module.exports = {
  projects: [
    project('unit', 'unit'),
    project('int', 'int', { setupFilesAfterEnv: ['<rootDir>/test/setup-int.ts'] }),
    project('e2e', 'e2e', { setupFilesAfterEnv: ['<rootDir>/test/setup-e2e.ts'] }),
    project('faults', 'faults', { setupFilesAfterEnv: ['<rootDir>/test/setup-faults.ts'] }),
    // The soak run (npm run test:soak): minutes to hours, never part of npm test.
    project('soak', 'soak', { setupFilesAfterEnv: ['<rootDir>/test/setup-faults.ts'] }),
  ],
};
