import type { Command } from 'commander';
import { findLab, handoutSummary, varsFor, type Lab, type Vars } from '../../labs/lab.js';
import { applySubmission, labWorld, nextLab, startLab, userSeed, validateSubmission } from '../../labs/labrun.js';
import { nodeContainer } from '../../runtime/engine.js';
import { ensureStandbyInBackground, refuseStandby, standbyEnabled } from '../../runtime/standby.js';
import { graphText } from '../../world/graph.js';
import type { Cli } from '../context.js';
import { interruptible } from '../interrupt.js';
import { instanceFlag } from '../options.js';
import { bold, dim, green, progressPrinter, warnUnsealed } from '../ui.js';

interface LabOptions {
  instance: string;
  seed?: string;
  reset: boolean;
  shell: boolean;
  standby: boolean;
  apply?: string;
  quiet: boolean;
}

/** The handout summary, the world and the task card, printed once the lab runs. */
function intro(lab: Lab, vars: Vars, instance: string, seconds: number): string {
  const task = lab.task?.(vars);
  return [
    '',
    handoutSummary(lab.readme),
    '',
    bold('The world'),
    graphText(labWorld(lab, vars)).split('\n\n')[0] ?? '',
    ...(task
      ? [
          '',
          bold('Your task card') + dim(' (also in /root/TASK.txt on alice)'),
          ...Object.entries(task).map(([k, v]) => `  ${k}: ${v}`),
        ]
      : []),
    '',
    `${green('ready')}: lab ${lab.id} is running in instance ${bold(instance)} (${seconds.toFixed(1)} s). The full handout: labs/${lab.dir.split('/').pop()}/README.md`,
    '',
  ].join('\n');
}

export function register(program: Command, cli: Cli): void {
  program
    .command('lab')
    .description("start a lab: a fresh world in the lab's state, its handout, and a shell on Alice's laptop")
    .argument('<lab>', 'lab number, slug or folder name (see: hurrynet list)')
    .addOption(cli.instanceOption())
    .option('--seed <seed>', 'per-learner variation (default: stable for your user name)')
    .option('--reset', 'replace a running instance of the same name with a fresh start', false)
    .option('--no-shell', 'start without opening a shell')
    .option('--no-standby', 'neither use nor prepare a standby world (also: HURRYNET_STANDBY=0)')
    .option('--apply <dir>', 'apply a submission folder after the start (<node>.sh, <node>/, answers.yaml)')
    .option('-q, --quiet', 'no progress output', false)
    .action(async (query: string, opts: LabOptions) => {
      refuseStandby(opts.instance);
      const lab = await findLab(query);
      const seed = opts.seed ?? userSeed();
      const driver = cli.driver();
      const progress = progressPrinter(opts.quiet);
      // Validate a submission before starting anything, so a bad folder costs nothing.
      const vars = varsFor(lab, seed);
      const submission = opts.apply ? validateSubmission(lab, vars, opts.apply) : undefined;
      const standby = opts.standby && standbyEnabled();
      const started = await interruptible((signal) =>
        startLab(driver, lab, { instance: opts.instance, seed, replace: opts.reset, progress, signal, standby }),
      );
      warnUnsealed(started.seal);
      // Prepare the next lab's world while the learner reads the handout.
      if (standby) {
        const next = await nextLab(lab);
        ensureStandbyInBackground(next ? { lab: next.id, seed } : undefined);
      }
      const flag = instanceFlag(opts.instance);
      if (submission) {
        try {
          await applySubmission(driver, opts.instance, lab, submission, { progress });
        } catch (err) {
          // The lab the user asked for stays up (nothing of the script keeps running): say so.
          throw new Error(
            `${(err as Error).message}\nThe lab is still running: inspect it with "npx hurrynet shell${flag}" or remove it with "npx hurrynet stop${flag}".`,
          );
        }
      }
      process.stdout.write(intro(lab, started.vars, opts.instance, started.seconds));
      const after = [
        `  npm run check ${lab.number}${flag ? ` --${flag}` : ''}     grade your work (or: npx hurrynet check${flag})`,
        `  npx hurrynet shell${flag}     back to Alice's laptop`,
        `  npx hurrynet stop${flag}      remove the lab`,
      ].join('\n');
      if (!opts.shell || !process.stdin.isTTY) {
        process.stdout.write(`Next:\n${after}\n`);
        return;
      }
      const container = await nodeContainer(driver, opts.instance, 'alice');
      process.stderr.write(dim(`hurrynet: a shell on Alice's laptop; type exit to leave (the lab keeps running)\n`));
      await driver.interactive(container, ['bash', '-l'], { stdin: process.stdin, stdout: process.stdout });
      process.stdout.write(`\nThe lab is still running.\n${after}\n`);
    });
}
