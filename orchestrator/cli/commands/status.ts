import { Option, type Command } from 'commander';
import { EXIT } from '../../errors.js';
import { status } from '../../runtime/engine.js';
import { isStandbyName, readClaim } from '../../runtime/standby.js';
import type { Cli } from '../context.js';
import { parseInstance } from '../options.js';
import { bold, dim, green, printJson, red, table, yellow } from '../ui.js';

export function register(program: Command, cli: Cli): void {
  program
    .command('status')
    .description('list instances with their nodes, addresses and health')
    .addOption(new Option('-i, --instance <name>', 'only this instance').argParser(parseInstance))
    .option('--json', 'print as JSON', false)
    .action(async (opts: { instance?: string; json: boolean }) => {
      const driver = cli.driver();
      const list = await status(driver, opts.instance);
      // A lab that claimed the standby world records itself inside the world, not in labels.
      await Promise.all(
        list
          .filter((i) => i.lab === 'free' && !isStandbyName(i.instance))
          .map(async (i) => (i.lab = (await readClaim(driver, i.instance))?.lab ?? i.lab)),
      );
      for (const i of list) if (isStandbyName(i.instance)) i.lab = 'standby';
      if (opts.json) {
        printJson({ instances: list });
        return;
      }
      if (!list.length) {
        process.stdout.write(
          opts.instance
            ? `no instance "${opts.instance}" is running\n`
            : 'no hurrynet instances are running (start one with: npx hurrynet up, or npm run lab N)\n',
        );
        if (opts.instance) process.exitCode = EXIT.failure;
        return;
      }
      for (const inst of list) {
        process.stdout.write(
          `${bold(inst.instance)}  lab ${inst.lab}  ${inst.healthy ? green('healthy') : red('unhealthy')}\n`,
        );
        const rows = inst.nodes.map((n) => [
          `  ${n.node}`,
          n.state === 'running' ? (n.ready ? green('ready') : yellow('starting')) : red(n.state),
          n.addresses.map((a) => `${a.link} ${a.address}`).join(', ') || dim('-'),
        ]);
        process.stdout.write(table(rows) + '\n');
      }
    });
}
