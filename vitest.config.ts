import { defineConfig } from 'vitest/config';

// Integration tests share one Docker engine on a 2-core machine: run files one after another.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 600_000,
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default'],
  },
});
