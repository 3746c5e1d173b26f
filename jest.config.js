/** ts-jest down-levels the ESM-only lowdb/steno to CommonJS (see shared/reference/stack.md §3). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.[tj]s$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] },
  transformIgnorePatterns: ['/node_modules/(?!(lowdb|steno)/)'],
  testTimeout: 20000,
  // Two workers, also on a 2-core machine, where jest's default (cores - 1 = 1) runs every file in its
  // own process one after the other: the suite took 613 s that way and 346 s with two workers, most
  // files waiting on child processes, servers and timers rather than on the CPU. A worker also ends
  // with its files, so a handle a test leaves open cannot keep jest from exiting (in band, a leaked
  // PostgreSQL child held a CI run until its deadline).
  maxWorkers: 2,
};
