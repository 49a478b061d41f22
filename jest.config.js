/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 60000,
  // Every temporary folder of a run lives in one folder, removed when the run ends; without
  // DATABASE_URL, the run starts a PostgreSQL of its own and removes it at the end.
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  // Suites that share the PostgreSQL database use their own schema, so files can run in parallel.
  maxWorkers: 2,
};
