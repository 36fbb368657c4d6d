import type { Command } from 'commander';
import { findLab, varsFor } from '../../labs/lab.js';
import { labWorld, userSeed } from '../../labs/labrun.js';
import { stop } from '../../runtime/engine.js';
import { ensureStandby, listStandby, standbyEnabled } from '../../runtime/standby.js';
import { canonicalWorld } from '../../world/world.js';
import type { Cli } from '../context.js';
import { dim, green, progressPrinter, red } from '../ui.js';

export function register(program: Command, cli: Cli): void {
  program
    .command('standby')
    .description('the standby world kept started in the background so that labs start at once')
    .option('--ensure', 'start one now unless a usable one exists', false)
    .option('--remove', 'remove standby worlds', false)
    .option('--lab <lab>', "with --ensure: build it as this lab's world (default: the free world)")
    .option('--seed <seed>', "with --lab: the learner's variation (default: stable for your user name)")
    .option('-q, --quiet', 'no progress output', false)
    .action(async (opts: { ensure: boolean; remove: boolean; quiet: boolean; lab?: string; seed?: string }) => {
      const driver = cli.driver();
      if (opts.remove) {
        for (const s of await listStandby(driver)) await stop(driver, s.instance);
        process.stdout.write('removed the standby worlds\n');
        return;
      }
      if (opts.ensure) {
        let world = canonicalWorld;
        if (opts.lab) {
          const lab = await findLab(opts.lab);
          world = labWorld(lab, varsFor(lab, opts.seed ?? userSeed()));
        }
        const name = await ensureStandby(driver, progressPrinter(opts.quiet), world);
        process.stdout.write(
          name === 'busy' ? 'another process is preparing the standby world\n' : `standby world ready: ${name}\n`,
        );
        return;
      }
      const list = await listStandby(driver);
      if (!list.length)
        process.stdout.write(
          `no standby world${standbyEnabled() ? ' (one is started after a lab starts or stops)' : ' (disabled by HURRYNET_STANDBY)'}\n`,
        );
      for (const s of list)
        process.stdout.write(
          `${s.instance}  ${s.healthy ? green('running') : red('broken')}  ${s.current ? 'current images' : dim('old images (will be replaced)')}\n`,
        );
    });
}
