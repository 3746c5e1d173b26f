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
  // How long jest waits for a worker to end before it kills it and warns "A worker process has failed to
  // exit gracefully" (default 500 ms). Measured on Node 24 (2026-11-30): both workers ran their last JS
  // 1 ms after jest asked them to end, with nothing left open. They were still ending at 500 ms, and jest
  // killed them. A bare Node process with a heap of a few million objects takes 0.3-0.7 s here from its
  // last JS to its end. So the warning came at the end of every run without any leak. A worker that does
  // hang still gets the warning, after 5 s.
  workerGracefulExitTimeout: 5000,
};
