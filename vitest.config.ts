import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Workflow test files each start a Temporal dev server; two cores take two at a time.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
