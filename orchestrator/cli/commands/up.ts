import type { Command } from 'commander';
import { up } from '../../runtime/engine.js';
import { refuseStandby } from '../../runtime/standby.js';
import type { Cli } from '../context.js';
import { interruptible } from '../interrupt.js';
import { parseSeconds, suggest } from '../options.js';
import { bold, green, printJson, progressPrinter, warnUnsealed } from '../ui.js';

export function register(program: Command, cli: Cli): void {
  program
    .command('up')
    .description('start the free-play world and wait until every node is addressed and every service answers')
    .addOption(cli.instanceOption())
    .option('--replace', 'remove an instance of the same name first', false)
    .option('--timeout <seconds>', 'how long to wait for the nodes to be ready', parseSeconds, 60)
    .option('--json', 'print the result as JSON', false)
    .option('-q, --quiet', 'no progress output', false)
    .action(async (opts: { instance: string; replace: boolean; timeout: number; json: boolean; quiet: boolean }) => {
      refuseStandby(opts.instance);
      const driver = cli.driver();
      const progress = progressPrinter(opts.quiet || opts.json);
      const result = await interruptible((signal) =>
        up(driver, {
          instance: opts.instance,
          replace: opts.replace,
          progress,
          signal,
          readyTimeoutMs: opts.timeout * 1000,
        }),
      );
      if (opts.json) {
        printJson({
          instance: opts.instance,
          seconds: result.seconds,
          nodes: result.plan.containers.map((c) => c.node),
          sealed: result.seal?.sealed ?? false,
          ...(result.seal?.reason ? { unsealedBecause: result.seal.reason } : {}),
        });
        return;
      }
      warnUnsealed(result.seal);
      if (result.leftoversRemoved)
        progress(`removed ${result.leftoversRemoved} leftovers of an earlier run of "${opts.instance}"`);
      const next = [
        [suggest('shell', [], opts), "a shell on Alice's laptop (try: ping -c 3 web.bob.example)"],
        [suggest('status', [], opts), 'nodes, addresses and health'],
        [suggest('stop', [], opts), 'remove it'],
      ];
      const w = Math.max(...next.map(([c]) => (c as string).length)) + 4;
      process.stdout.write(
        `${green('ready')}: instance ${bold(opts.instance)} is up (${result.plan.containers.length} nodes, ${result.seconds.toFixed(1)} s)\n` +
          next.map(([c, what]) => `  ${(c as string).padEnd(w)}${what}\n`).join(''),
      );
    });
}
