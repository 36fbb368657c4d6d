import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { nodeContainer } from '../../runtime/engine.js';
import { refuseStandby } from '../../runtime/standby.js';
import type { Cli } from '../context.js';
import { suggest } from '../options.js';
import { dim } from '../ui.js';

export function register(program: Command, cli: Cli): void {
  program
    .command('shell')
    .description("open an interactive shell on a node (default: Alice's laptop)")
    .argument('[node]', 'node name', 'alice')
    .addOption(cli.instanceOption())
    .action(async (node: string, opts: { instance: string }) => {
      refuseStandby(opts.instance);
      const driver = cli.driver();
      // The node first: a wrong name is the better thing to report.
      const container = await nodeContainer(driver, opts.instance, node);
      // Without a terminal, bash -l reads whatever stdin holds (often nothing) and quits with 0,
      // which looks like success.
      if (!process.stdin.isTTY) {
        throw new UsageError(
          `shell needs a terminal (standard input is not one). To run one command: ${suggest('exec', [node, '--', '<command>'], opts)}`,
        );
      }
      process.stderr.write(dim(`hurrynet: shell on ${node} (instance ${opts.instance}); type exit to leave\n`));
      process.exitCode = await driver.interactive(container, ['bash', '-l'], {
        stdin: process.stdin,
        stdout: process.stdout,
      });
    });
}
