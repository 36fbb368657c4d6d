import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { composeYaml } from '../../world/compose.js';
import { canonicalWorld } from '../../world/world.js';

export function register(program: Command): void {
  program
    .command('compose')
    .description('print the docker-compose.yml generated from the world data')
    .option('--write <file>', 'write it to a file')
    .action((opts: { write?: string }) => {
      const yaml = composeYaml(canonicalWorld);
      if (opts.write) {
        writeFileSync(opts.write, yaml);
        process.stdout.write(`wrote ${opts.write}\n`);
      } else process.stdout.write(yaml);
    });
}
