import { defineConfig } from 'vitest/config';

// Tests spawn real MCP servers and gateways; give them room and keep the 2-core box from thrashing.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Measured on the 2-core box (12 files, 110 tests, same minute): 2 workers 103/76/82 s, 3 workers
    // 96/46/58 s, 4 workers 49 s, the same CPU time each: e2e tests spend much of their time waiting
    // on processes and timers, which a third worker fills. Not 4: more at once raises the load the
    // timing-bound tests (startup waits) see.
    maxWorkers: 3,
    reporters: ['default', './test/support/summaryReporter.ts'],
  },
});
