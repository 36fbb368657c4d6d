// Builds the lab images once before the integration tests (a no-op when they are up to date),
// so that no single test pays for a cold build inside its timeout.
import { Driver } from '../orchestrator/runtime/driver.js';
import { ensureImages } from '../orchestrator/runtime/images.js';

export default async function setup(): Promise<void> {
  if (process.env.HURRYNET_SKIP_INTEGRATION === '1') return;
  const driver = new Driver();
  await driver.ping();
  const { report } = await ensureImages(driver, (m) => process.stderr.write(`[images] ${m}\n`));
  process.stderr.write(
    `[images] ${report.built.length} built, ${report.reused.length} up to date in ${report.seconds.toFixed(1)} s\n`,
  );
}
