// The learner's commands: list, lab, check. Thin: the work is in labrun.ts and checks/.
import { Command, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { renderJson, renderJunit, renderTerminal } from '../checks/report.js';
import { Driver } from './driver.js';
import { defaultInstance, nodeContainer, NoSuchInstanceError } from './engine.js';
import { graphText } from './graph.js';
import { findLab, handoutSummary, loadLabs, varsFor } from './lab.js';
import { interruptible } from './interrupt.js';
import { ensureStandbyInBackground, ensureStandby, listStandby, refuseStandby, standbyEnabled } from './standby.js';
import { stop } from './engine.js';
import { applySubmission, checkLab, labWorld, nextLab, runningLab, startLab, userSeed, validateSubmission } from './labrun.js';
import { canonicalWorld } from './world.js';
import { bold, dim, green, progressPrinter, red, table } from './ui.js';

export function instanceFlag(instance: string): string {
  return instance === defaultInstance() ? '' : ` --instance ${instance}`;
}

export function addLabCommands(program: Command, driverFactory: () => Driver, instanceOption: () => Option): void {
  program
    .command('list')
    .description('list the labs with number, slug, title, topics and estimated time')
    .option('--json', 'print as JSON', false)
    .action(async (opts: { json: boolean }) => {
      const labs = await loadLabs();
      if (opts.json) {
        process.stdout.write(JSON.stringify(labs.map(({ id, slug, title, topics, minutes, goal }) => ({ id, slug, title, topics, minutes, goal })), null, 2) + '\n');
        return;
      }
      const rows = [['lab', 'slug', 'title', 'time', 'topics'].map((h) => bold(h))];
      for (const l of labs) rows.push([l.id, l.slug, l.title, `${l.minutes} min`, dim(l.topics.join(', '))]);
      process.stdout.write(table(rows) + `\n\nStart one with: npm run lab <number>   (for example: npm run lab ${labs[0]?.number ?? 1})\n`);
    });

  program
    .command('lab')
    .description('start a lab: a fresh world in the lab\'s state, its handout, and a shell on Alice\'s laptop')
    .argument('<lab>', 'lab number, slug or folder name (see: hurrynet list)')
    .addOption(instanceOption())
    .option('--seed <seed>', 'per-learner variation (default: stable for your user name)')
    .option('--reset', 'replace a running instance of the same name with a fresh start', false)
    .option('--no-shell', 'start without opening a shell')
    .option('--no-standby', 'neither use nor prepare a standby world (also: HURRYNET_STANDBY=0)')
    .option('--apply <dir>', 'apply a submission folder after the start (<node>.sh, <node>/, answers.yaml)')
    .option('-q, --quiet', 'no progress output', false)
    .action(async (query: string, opts: { instance: string; seed?: string; reset: boolean; shell: boolean; standby: boolean; apply?: string; quiet: boolean }) => {
      refuseStandby(opts.instance);
      const lab = await findLab(query);
      const seed = opts.seed ?? userSeed();
      const driver = driverFactory();
      const progress = progressPrinter(opts.quiet);
      // Validate a submission before starting anything, so a bad folder costs nothing.
      const vars = varsFor(lab, seed);
      const submission = opts.apply ? validateSubmission(lab, vars, opts.apply) : undefined;
      const standby = opts.standby && standbyEnabled();
      const started = await interruptible((signal) =>
        startLab(driver, lab, { instance: opts.instance, seed, replace: opts.reset, progress, signal, standby }),
      );
      // Prepare the next lab's world while the learner reads the handout.
      if (standby) {
        const next = await nextLab(lab);
        ensureStandbyInBackground(next ? { lab: next.id, seed } : undefined);
      }
      if (submission) {
        try {
          await applySubmission(driver, opts.instance, lab, submission, { progress });
        } catch (err) {
          // The lab the user asked for stays up (nothing of the script keeps running): say so.
          throw new Error(`${(err as Error).message}\nThe lab is still running: inspect it with "npx hurrynet shell${instanceFlag(opts.instance)}" or remove it with "npx hurrynet stop${instanceFlag(opts.instance)}".`);
        }
      }
      const flag = instanceFlag(opts.instance);
      const task = lab.task?.(started.vars);
      process.stdout.write(
        [
          '',
          handoutSummary(lab.readme),
          '',
          bold('The world'),
          graphText(labWorld(lab, started.vars)).split('\n\n')[0] ?? '',
          ...(task ? ['', bold('Your task card') + dim(' (also in /root/TASK.txt on alice)'), ...Object.entries(task).map(([k, v]) => `  ${k}: ${v}`)] : []),
          '',
          `${green('ready')}: lab ${lab.id} is running in instance ${bold(opts.instance)} (${started.seconds.toFixed(1)} s). The full handout: labs/${lab.dir.split('/').pop()}/README.md`,
          '',
        ].join('\n'),
      );
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

  program
    .command('standby')
    .description('the standby world kept started in the background so that labs start at once')
    .option('--ensure', 'start one now unless a usable one exists', false)
    .option('--remove', 'remove standby worlds', false)
    .option('--lab <lab>', 'with --ensure: build it as this lab\'s world (default: the free world)')
    .option('--seed <seed>', 'with --lab: the learner\'s variation (default: stable for your user name)')
    .option('-q, --quiet', 'no progress output', false)
    .action(async (opts: { ensure: boolean; remove: boolean; quiet: boolean; lab?: string; seed?: string }) => {
      const driver = driverFactory();
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
        process.stdout.write(name === 'busy' ? 'another process is preparing the standby world\n' : `standby world ready: ${name}\n`);
        return;
      }
      const list = await listStandby(driver);
      if (!list.length) process.stdout.write(`no standby world${standbyEnabled() ? ' (one is started after a lab starts or stops)' : ' (disabled by HURRYNET_STANDBY)'}\n`);
      for (const s of list) process.stdout.write(`${s.instance}  ${s.healthy ? green('running') : red('broken')}  ${s.current ? 'current images' : dim('old images (will be replaced)')}\n`);
    });

  program
    .command('check')
    .description('grade the running lab: every check with points, evidence and a hint')
    .argument('[lab]', 'the lab you expect the instance to run (optional)')
    .addOption(instanceOption())
    .option('--json', 'print the report as JSON', false)
    .option('--junit <file>', 'also write a JUnit XML report')
    .action(async (query: string | undefined, opts: { instance: string; json: boolean; junit?: string }) => {
      const driver = driverFactory();
      const running = await runningLab(driver, opts.instance);
      if (!running) {
        const flag = instanceFlag(opts.instance);
        throw new NoSuchInstanceError(
          `no lab is running in instance "${opts.instance}". Start one with: npm run lab ${query ?? '<number>'}${flag ? ` --${flag}` : ''}`,
        );
      }
      if (query) {
        const wanted = await findLab(query);
        if (wanted.id !== running.lab.id) {
          throw new NoSuchInstanceError(
            `instance "${opts.instance}" runs lab ${running.lab.id} (${running.lab.slug}), not lab ${wanted.id}. ` +
              `Start lab ${wanted.id} with: npm run lab ${wanted.number} -- --reset`,
          );
        }
      }
      const report = await checkLab(driver, opts.instance, running);
      if (opts.junit) writeFileSync(opts.junit, renderJunit(report));
      process.stdout.write(opts.json ? renderJson(report) : renderTerminal(report, { bold, green, red, dim }));
      process.exitCode = report.passed ? 0 : 1;
    });
}
