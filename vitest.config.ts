import { defineConfig } from 'vitest/config';

// Unit tests are pure and fast. Integration tests share one Docker engine on a 2-core machine,
// so their files run one after another, after the images are built once.
export default defineConfig({
  test: {
    fileParallelism: false,
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 600_000,
          globalSetup: ['test/global-setup.ts'],
          // No background standby worlds from CLI runs in tests; the standby test turns it on itself.
          env: { HURRYNET_STANDBY: '0' },
        },
      },
    ],
  },
});
