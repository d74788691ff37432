import { defineConfig } from 'vitest/config';

// Tests spawn real MCP servers and gateways; give them room and keep the 2-core box from thrashing.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', './test/support/summaryReporter.ts'],
  },
});
