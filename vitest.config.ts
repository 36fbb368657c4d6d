import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { ENGINE2_SMOKE, engine2Env, engine2Present } from './test/engine2.js';

// Unit tests are pure and fast. Integration tests share one Docker engine on a 2-core machine,
// so their files run one after another, after the images are built once.
const integration = {
  fileParallelism: false,
  testTimeout: 120_000,
  hookTimeout: 600_000,
  // No background standby worlds from CLI runs in tests; the standby test turns it on itself.
  env: { HURRYNET_STANDBY: '0' },
};

// The engine, world and lab smoke files also run on the second engine (Docker 26.1, started by
// npm run setup through scripts/engine2.sh), one file at a time like the rest. Without it they are
// skipped with a notice; where .ci/run sets HURRYNET_REQUIRE_ENGINE2=1, a missing engine fails.
function engine2Project(): TestProjectInlineConfiguration[] {
  if (process.env.HURRYNET_SKIP_INTEGRATION === '1') return [];
  const env = engine2Env(import.meta.dirname);
  if (!engine2Present(env)) {
    const why = `the second engine is not running (${env.DOCKER_HOST}); scripts/engine2.sh start starts it`;
    if (process.env.HURRYNET_REQUIRE_ENGINE2 === '1') throw new Error(`HURRYNET_REQUIRE_ENGINE2=1 but ${why}`);
    process.stderr.write(`[engine2] skipped: ${why}\n`);
    return [];
  }
  return [
    {
      test: {
        ...integration,
        name: 'engine2',
        include: ENGINE2_SMOKE,
        globalSetup: ['test/engine2-setup.ts'],
        env: { ...integration.env, ...env },
      },
    },
  ];
}

export default defineConfig({
  test: {
    fileParallelism: false,
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        test: {
          ...integration,
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
        },
      },
      ...engine2Project(),
    ],
  },
});
