import type { Command } from 'commander';
import { findLab, handoutSummary, varsFor, type Lab, type Vars } from '../../labs/lab.js';
import {
  alreadyRunningMessage,
  askYesNo,
  decideStart,
  labName,
  readAnswersState,
  recordChecked,
  replaceQuestion,
  replacingMessage,
  scriptOutputSummary,
  unsavedRefusal,
  hasUnsavedAnswers,
} from '../../labs/courseflow.js';
import {
  applySubmission,
  instanceOccupant,
  labWorld,
  nextLab,
  startLab,
  userSeed,
  validateSubmission,
} from '../../labs/labrun.js';
import { InstanceExistsError, UsageError } from '../../errors.js';
import { nodeContainer } from '../../runtime/engine.js';
import type { Driver } from '../../runtime/driver.js';
import { FILES } from '../../world/files.js';
import { ensureStandbyInBackground, refuseStandby, standbyEnabled } from '../../runtime/standby.js';
import { graphText } from '../../world/graph.js';
import { worldChanges } from '../../world/changes.js';
import { canonicalWorld } from '../../world/world.js';
import type { Cli } from '../context.js';
import { interruptible } from '../interrupt.js';
import { suggest, withLearnerFlags, type LearnerFlags } from '../options.js';
import { bold, dim, green, progressPrinter, warnUnsealed } from '../ui.js';
import { DEFAULT_HOST } from '../../ui/auth.js';
import { serveUi } from './ui.js';

interface LabOptions {
  instance: string;
  seed?: string;
  reset: boolean;
  shell: boolean;
  standby: boolean;
  apply?: string;
  quiet: boolean;
  yes: boolean;
  verbose: boolean;
  web: boolean;
}

/** The commands a learner types next, with their own flags. */
function nextSteps(lab: Lab, flags: LearnerFlags): string {
  const check = suggest('check', [String(lab.number)], flags);
  const shell = suggest('shell', [], flags);
  const stop = suggest('stop', [], flags);
  const w = Math.max(check.length, shell.length, stop.length) + 4;
  return [
    `  ${check.padEnd(w)}grade your work`,
    `  ${shell.padEnd(w)}back to Alice's laptop`,
    `  ${stop.padEnd(w)}remove the lab`,
  ].join('\n');
}

/** The handout summary, the world and the task card, printed once the lab runs. */
function intro(lab: Lab, vars: Vars, instance: string, seconds: number, flags: LearnerFlags): string {
  const task = lab.task?.(vars);
  const world = labWorld(lab, vars);
  const changes = worldChanges(canonicalWorld, world);
  return [
    '',
    withLearnerFlags(handoutSummary(lab.readme), flags),
    '',
    bold('The world'),
    graphText(world).split('\n\n')[0] ?? '',
    ...(changes.length
      ? ['', bold('This lab changes the world') + dim(' (README, "The world")'), ...changes.map((c) => `  ${c}`)]
      : []),
    ...(task
      ? [
          '',
          bold('Your task card') + dim(' (also in /root/TASK.txt on alice)'),
          ...Object.entries(task).map(([k, v]) => `  ${k}: ${withLearnerFlags(String(v), flags)}`),
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
    .option('--reset', 'start the lab over when it already runs on the instance', false)
    .option(
      '-y, --yes',
      'replace the lab running on the instance without asking, even when its answers changed after the last check',
      false,
    )
    .option('--no-shell', 'start without opening a shell')
    .option('--web', 'then open the lab in the browser (hurrynet ui) instead of a shell', false)
    .option('--no-standby', 'neither use nor prepare a standby world (also: HURRYNET_STANDBY=0)')
    .option('--apply <dir>', 'apply a submission folder after the start (<node>.sh, <node>/, answers.yaml)')
    .option('-v, --verbose', 'with --apply: everything each script printed (default: its last lines)', false)
    .option('-q, --quiet', 'no progress output', false)
    .action(async (query: string, opts: LabOptions) => {
      refuseStandby(opts.instance);
      const lab = await findLab(query);
      const driver = cli.driver();
      const progress = progressPrinter(opts.quiet);
      // Moving on in the course: whatever runs on the instance is replaced, asking first only when
      // that would lose answers no check has seen. The next lab keeps the running lab's variation.
      const current = await instanceOccupant(driver, opts.instance);
      const running = current?.running;
      const seed = opts.seed ?? running?.seed ?? userSeed();
      const flags: LearnerFlags = { instance: opts.instance, seed: seed === userSeed() ? undefined : seed };
      const state = current ? await readAnswersState(driver, opts.instance) : {};
      const decision = decideStart({
        running: current && { lab: running?.lab.id, seed: running?.seed },
        wanted: { lab: lab.id, seed: opts.seed },
        reset: opts.reset,
        yes: opts.yes,
        tty: !!process.stdin.isTTY,
        unsaved: hasUnsavedAnswers(state.answers, state.checked),
      });
      const from = labName(running?.lab);
      const to = labName(lab);
      if (decision === 'same') {
        if (opts.apply)
          throw new UsageError(
            `${from} is already running on instance ${opts.instance}. To apply a submission to a fresh start: ${suggest('lab', [String(lab.number), '--reset', '--apply', opts.apply], flags)}`,
          );
        process.stdout.write(
          alreadyRunningMessage(from, opts.instance, {
            shell: suggest('shell', [], flags),
            reset: suggest('lab', [String(lab.number), '--reset'], flags),
          }),
        );
        if (opts.web) await serveUi(driver, { instance: opts.instance, host: DEFAULT_HOST, open: true });
        else if (opts.shell && process.stdin.isTTY) await openShell(driver, opts.instance, lab, flags);
        return;
      }
      if (decision === 'refuse')
        throw new InstanceExistsError(
          unsavedRefusal(from, to, opts.instance, {
            check: running ? suggest('check', [String(running.lab.number)], flags) : suggest('check', [], flags),
            save: `${suggest('exec', ['alice', '--', 'cat', FILES.answers], flags)} > answers-${running?.lab.id ?? 'free'}.yaml`,
            replace: suggest('lab', [String(lab.number), '--yes'], { ...flags, seed: opts.seed }),
          }),
        );
      if (decision === 'ask' && !(await askYesNo(replaceQuestion(from, to, opts.instance)))) {
        process.stderr.write(`nothing changed: ${from} keeps running on instance ${opts.instance}\n`);
        process.exitCode = 1;
        return;
      }
      const replace = decision === 'replace' || decision === 'ask' || opts.reset;
      if (current && !opts.quiet) process.stderr.write(`${replacingMessage(from, to, opts.instance)}\n`);
      // Validate a submission before starting anything, so a bad folder costs nothing.
      const vars = varsFor(lab, seed);
      const submission = opts.apply ? validateSubmission(lab, vars, opts.apply) : undefined;
      const standby = opts.standby && standbyEnabled();
      const started = await interruptible((signal) =>
        startLab(driver, lab, {
          instance: opts.instance,
          seed,
          replace,
          progress,
          signal,
          standby,
          learnerText: (t) => withLearnerFlags(t, flags),
        }),
      );
      warnUnsealed(started.seal);
      // Prepare the next lab's world while the learner reads the handout.
      if (standby) {
        const next = await nextLab(lab);
        ensureStandbyInBackground(next ? { lab: next.id, seed } : undefined);
      }
      if (submission) {
        const showScripts = !opts.quiet || opts.verbose;
        try {
          await applySubmission(driver, opts.instance, lab, submission, {
            progress,
            onScript: (node, output) => {
              if (showScripts) process.stderr.write(`${scriptOutputSummary(node, output, opts.verbose)}\n`);
            },
          });
        } catch (err) {
          // The lab the user asked for stays up (nothing of the script keeps running): say so.
          throw new Error(
            `${(err as Error).message}\nThe lab is still running: inspect it with "${suggest('shell', [], flags)}" or remove it with "${suggest('stop', [], flags)}".`,
          );
        }
        // Answers from a folder are kept in that folder: replacing this lab loses nothing of them.
        if (submission.answers !== undefined) await recordChecked(driver, opts.instance, submission.answers);
      }
      process.stdout.write(intro(lab, started.vars, opts.instance, started.seconds, flags));
      if (opts.web) return serveUi(driver, { instance: opts.instance, host: DEFAULT_HOST, open: true });
      if (!opts.shell || !process.stdin.isTTY) {
        process.stdout.write(`Next:\n${nextSteps(lab, flags)}\n`);
        return;
      }
      await openShell(driver, opts.instance, lab, flags);
    });
}

/** The shell on Alice's laptop, and what to type next when the learner leaves it. */
async function openShell(driver: Driver, instance: string, lab: Lab, flags: LearnerFlags): Promise<void> {
  const container = await nodeContainer(driver, instance, 'alice');
  process.stderr.write(dim(`hurrynet: a shell on Alice's laptop; type exit to leave (the lab keeps running)\n`));
  await driver.interactive(container, ['bash', '-l'], { stdin: process.stdin, stdout: process.stdout });
  process.stdout.write(`\nThe lab is still running.\n${nextSteps(lab, flags)}\n`);
}
