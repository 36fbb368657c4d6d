import type { Command } from 'commander';
import { ensureImages } from '../../runtime/images.js';
import type { Cli } from '../context.js';
import { progressPrinter } from '../ui.js';

export function register(program: Command, cli: Cli): void {
  program
    .command('build')
    .description('build the lab images (only what changed since the last build)')
    .option('--force', 'rebuild even when an image of the same content exists', false)
    .option('-q, --quiet', 'no progress output', false)
    .action(async (opts: { force: boolean; quiet: boolean }) => {
      const driver = cli.driver();
      await driver.ping();
      const { report } = await ensureImages(driver, progressPrinter(opts.quiet), { force: opts.force });
      process.stdout.write(
        `images: ${report.built.length} built, ${report.reused.length} up to date (${report.seconds.toFixed(1)} s)\n`,
      );
    });
}
