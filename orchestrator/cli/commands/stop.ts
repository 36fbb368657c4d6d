import type { Command } from 'commander';
import { clean, listInstances, stop } from '../../runtime/engine.js';
import { ensureStandbyInBackground, isStandbyName, standbyEnabled } from '../../runtime/standby.js';
import { nextLab, runningLab } from '../../labs/labrun.js';
import type { Cli } from '../context.js';
import { printJson } from '../ui.js';

export function register(program: Command, cli: Cli): void {
  program
    .command('stop')
    .description('remove an instance (its containers and networks)')
    .addOption(cli.instanceOption())
    .option('--all', 'remove every hurrynet instance', false)
    .option('--json', 'print as JSON', false)
    .action(async (opts: { instance: string; all: boolean; json: boolean }) => {
      const driver = cli.driver();
      // Which lab ran, to prepare the next one's world in the background afterwards.
      const ran =
        opts.all || isStandbyName(opts.instance) || !standbyEnabled()
          ? undefined
          : await runningLab(driver, opts.instance).catch(() => undefined);
      const r = opts.all ? await clean(driver) : await stop(driver, opts.instance);
      if (!opts.all && !isStandbyName(opts.instance) && (r.containers || r.networks)) {
        const next = ran ? await nextLab(ran.lab) : undefined;
        ensureStandbyInBackground(next ? { lab: next.id, seed: ran?.seed ?? '' } : undefined);
      }
      if (opts.json) return printJson(r);
      if (!opts.all && r.containers === 0 && r.networks === 0) {
        const others = [...(await listInstances(driver)).keys()];
        process.stdout.write(
          `nothing to stop: no instance "${opts.instance}"${others.length ? ` (running: ${others.join(', ')})` : ''}\n`,
        );
        return;
      }
      process.stdout.write(
        `stopped ${opts.all ? 'all instances' : `instance ${opts.instance}`}: removed ${r.containers} containers and ${r.networks} networks in ${r.seconds.toFixed(1)} s\n`,
      );
    });
}
