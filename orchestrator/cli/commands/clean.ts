import type { Command } from 'commander';
import { Driver } from '../../runtime/driver.js';
import { clean } from '../../runtime/engine.js';
import type { Cli } from '../context.js';
import { printJson } from '../ui.js';

export function register(program: Command, cli: Cli): void {
  program
    .command('clean')
    .description('remove every container and network hurrynet ever made (found by label)')
    .option('--images', 'also remove hurrynet images (the next start rebuilds them)', false)
    .option('--json', 'print as JSON', false)
    .action(async (opts: { images: boolean; json: boolean }) => {
      const driver = cli.driver();
      const r = await clean(driver);
      let images = 0;
      if (opts.images) {
        const list = await driver.listImages(Driver.projectLabels());
        for (const img of list) await driver.removeImage(img.id);
        images = list.length;
      }
      if (opts.json) return printJson({ ...r, images });
      process.stdout.write(
        `removed ${r.containers} containers, ${r.networks} networks${opts.images ? `, ${images} images` : ''}\n`,
      );
    });
}
