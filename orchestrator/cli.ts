// The hurrynet command line: a thin shell over the engine. Every command takes --help.
import { Command, InvalidArgumentError, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { Driver, DockerUnavailableError } from './driver.js';
import {
  AbortedError,
  clean,
  defaultInstance,
  InstanceExistsError,
  nodeContainer,
  NoSuchInstanceError,
  status,
  stop,
  up,
  listInstances,
} from './engine.js';
import { composeYaml } from './compose.js';
import { graphMermaid, graphSvg, graphText } from './graph.js';
import { ensureImages } from './images.js';
import { validateInstanceName } from './plan.js';
import { interruptible } from './interrupt.js';
import { UnknownLabError } from './lab.js';
import { SubmissionError } from './submission.js';
import { addLabCommands, instanceFlag } from './cli-labs.js';
import { addGradeCommand } from './cli-grade.js';
import { ensureStandbyInBackground, isStandbyName, readClaim, refuseStandby, standbyEnabled, StandbyNameError } from './standby.js';
import { nextLab, runningLab } from './labrun.js';
import { bold, dim, errRed, green, progressPrinter, red, table, yellow } from './ui.js';
import { canonicalWorld } from './world.js';

export { EXIT } from './interrupt.js';
import { EXIT } from './interrupt.js';

export class UsageError extends Error {}

function instanceOption(): Option {
  return new Option('-i, --instance <name>', 'instance name (several can run side by side)')
    .default(defaultInstance(), `$HURRYNET_INSTANCE or your user name`)
    .argParser((v: string) => {
      try {
        return validateInstanceName(v);
      } catch (err) {
        throw new InvalidArgumentError((err as Error).message);
      }
    });
}

function parseCount(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

function parseSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number of seconds');
  return n;
}

async function readAll(stream: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function buildProgram(driverFactory: () => Driver = () => new Driver()): Command {
  const program = new Command();
  // Set before adding commands so that every subcommand inherits it: errors reach main().
  program.exitOverride();
  program
    .name('hurrynet')
    .description('Hands-on networking labs: the Alice & Bob internet in Docker containers.')
    .showHelpAfterError('(add --help for usage)')
    .configureHelp({ sortSubcommands: false })
    .addHelpText(
      'after',
      `
Examples:
  hurrynet up                      start the free-play world (builds images the first time)
  hurrynet shell                   open a shell on Alice's laptop
  hurrynet exec web -- tail /var/log/web/access.log
  hurrynet status                  what is running, with addresses and health
  hurrynet stop                    remove your instance
  hurrynet graph --format svg -o world.svg`,
    );

  program
    .command('up')
    .description('start the free-play world and wait until every node is addressed and every service answers')
    .addOption(instanceOption())
    .option('--replace', 'remove an instance of the same name first', false)
    .option('--timeout <seconds>', 'how long to wait for the nodes to be ready', parseSeconds, 60)
    .option('--json', 'print the result as JSON', false)
    .option('-q, --quiet', 'no progress output', false)
    .action(async (opts: { instance: string; replace: boolean; timeout: number; json: boolean; quiet: boolean }) => {
      refuseStandby(opts.instance);
      const driver = driverFactory();
      const progress = progressPrinter(opts.quiet || opts.json);
      const result = await interruptible((signal) =>
        up(driver, { instance: opts.instance, replace: opts.replace, progress, signal, readyTimeoutMs: opts.timeout * 1000 }),
      );
      if (opts.json) {
        printJson({ instance: opts.instance, seconds: result.seconds, nodes: result.plan.containers.map((c) => c.node) });
        return;
      }
      if (result.leftoversRemoved) progress(`removed ${result.leftoversRemoved} leftovers of an earlier run of "${opts.instance}"`);
      const flag = instanceFlag(opts.instance);
      process.stdout.write(
        `${green('ready')}: instance ${bold(opts.instance)} is up (${result.plan.containers.length} nodes, ${result.seconds.toFixed(1)} s)\n` +
          `  hurrynet shell${flag}        a shell on Alice's laptop (try: ping -c 3 web.bob.example)\n` +
          `  hurrynet status${flag}       nodes, addresses and health\n` +
          `  hurrynet stop${flag}         remove it\n`,
      );
    });

  program
    .command('shell')
    .description("open an interactive shell on a node (default: Alice's laptop)")
    .argument('[node]', 'node name', 'alice')
    .addOption(instanceOption())
    .action(async (node: string, opts: { instance: string }) => {
      refuseStandby(opts.instance);
      const driver = driverFactory();
      const container = await nodeContainer(driver, opts.instance, node);
      if (process.stdin.isTTY) process.stderr.write(dim(`hurrynet: shell on ${node} (instance ${opts.instance}); type exit to leave\n`));
      const code = await driver.interactive(container, ['bash', '-l'], { stdin: process.stdin, stdout: process.stdout });
      process.exitCode = code;
    });

  program
    .command('exec')
    .description('run one command on a node; prints its output and returns its exit code')
    .argument('<node>', 'node name')
    .argument('<command...>', 'the command (put -- before it when it has options)')
    .addOption(instanceOption())
    .option('--stdin', 'send standard input to the command', false)
    .action(async (node: string, command: string[], opts: { instance: string; stdin: boolean }) => {
      refuseStandby(opts.instance);
      const driver = driverFactory();
      const container = await nodeContainer(driver, opts.instance, node);
      // --stdin sends our input to the command (hurrynet exec --stdin alice -- bash -s < script.sh);
      // without it stdin is never read, so an open pipe cannot make exec wait forever.
      const stdin = opts.stdin ? await readAll(process.stdin) : undefined;
      const r = await driver.exec(container, command, { stdin: stdin && stdin.length ? stdin : undefined });
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      process.exitCode = r.exitCode;
    });

  program
    .command('status')
    .description('list instances with their nodes, addresses and health')
    .option('-i, --instance <name>', 'only this instance')
    .option('--json', 'print as JSON', false)
    .action(async (opts: { instance?: string; json: boolean }) => {
      const driver = driverFactory();
      const list = await status(driver, opts.instance);
      // A lab that claimed the standby world records itself inside the world, not in labels.
      await Promise.all(
        list.filter((i) => i.lab === 'free' && !isStandbyName(i.instance)).map(async (i) => (i.lab = (await readClaim(driver, i.instance))?.lab ?? i.lab)),
      );
      for (const i of list) if (isStandbyName(i.instance)) i.lab = 'standby';
      if (opts.json) {
        printJson({ instances: list });
        return;
      }
      if (!list.length) {
        process.stdout.write(opts.instance ? `no instance "${opts.instance}" is running\n` : 'no hurrynet instances are running (start one with: hurrynet up)\n');
        if (opts.instance) process.exitCode = EXIT.failure;
        return;
      }
      for (const inst of list) {
        process.stdout.write(`${bold(inst.instance)}  lab ${inst.lab}  ${inst.healthy ? green('healthy') : red('unhealthy')}\n`);
        const rows = inst.nodes.map((n) => [
          `  ${n.node}`,
          n.state === 'running' ? (n.ready ? green('ready') : yellow('starting')) : red(n.state),
          n.addresses.map((a) => `${a.link} ${a.address}`).join(', ') || dim('-'),
        ]);
        process.stdout.write(table(rows) + '\n');
      }
    });

  program
    .command('stop')
    .description('remove an instance (its containers and networks)')
    .addOption(instanceOption())
    .option('--all', 'remove every hurrynet instance', false)
    .option('--json', 'print as JSON', false)
    .action(async (opts: { instance: string; all: boolean; json: boolean }) => {
      const driver = driverFactory();
      // Which lab ran, to prepare the next one's world in the background afterwards.
      const ran = opts.all || isStandbyName(opts.instance) || !standbyEnabled() ? undefined : await runningLab(driver, opts.instance).catch(() => undefined);
      const r = opts.all ? await clean(driver) : await stop(driver, opts.instance);
      if (!opts.all && !isStandbyName(opts.instance) && (r.containers || r.networks)) {
        const next = ran ? await nextLab(ran.lab) : undefined;
        ensureStandbyInBackground(next ? { lab: next.id, seed: ran?.seed ?? '' } : undefined);
      }
      if (opts.json) return printJson(r);
      if (!opts.all && r.containers === 0 && r.networks === 0) {
        const others = [...(await listInstances(driver)).keys()];
        process.stdout.write(`nothing to stop: no instance "${opts.instance}"${others.length ? ` (running: ${others.join(', ')})` : ''}\n`);
        return;
      }
      process.stdout.write(`stopped ${opts.all ? 'all instances' : `instance ${opts.instance}`}: removed ${r.containers} containers and ${r.networks} networks in ${r.seconds.toFixed(1)} s\n`);
    });

  program
    .command('clean')
    .description('remove every container and network hurrynet ever made (found by label)')
    .option('--images', 'also remove hurrynet images (the next start rebuilds them)', false)
    .option('--json', 'print as JSON', false)
    .action(async (opts: { images: boolean; json: boolean }) => {
      const driver = driverFactory();
      const r = await clean(driver);
      let images = 0;
      if (opts.images) {
        const list = await driver.listImages(Driver.projectLabels());
        for (const img of list) await driver.removeImage(img.id);
        images = list.length;
      }
      if (opts.json) return printJson({ ...r, images });
      process.stdout.write(`removed ${r.containers} containers, ${r.networks} networks${opts.images ? `, ${images} images` : ''}\n`);
    });

  program
    .command('build')
    .description('build the lab images (only what changed since the last build)')
    .option('--force', 'rebuild even when an image of the same content exists', false)
    .option('-q, --quiet', 'no progress output', false)
    .action(async (opts: { force: boolean; quiet: boolean }) => {
      const driver = driverFactory();
      await driver.ping();
      const { report } = await ensureImages(driver, progressPrinter(opts.quiet), { force: opts.force });
      process.stdout.write(`images: ${report.built.length} built, ${report.reused.length} up to date (${report.seconds.toFixed(1)} s)\n`);
    });

  program
    .command('graph')
    .description('print the topology of the world (text, SVG or Mermaid)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'svg', 'mermaid']).default('text'))
    .option('-o, --output <file>', 'write to a file instead of the terminal')
    .action((opts: { format: 'text' | 'svg' | 'mermaid'; output?: string }) => {
      const render = { text: graphText, svg: graphSvg, mermaid: graphMermaid }[opts.format];
      const out = render(canonicalWorld);
      if (opts.output) {
        writeFileSync(opts.output, out.endsWith('\n') ? out : out + '\n');
        process.stdout.write(`wrote ${opts.format} topology to ${opts.output}\n`);
      } else process.stdout.write(out.endsWith('\n') ? out : out + '\n');
    });

  addLabCommands(program, driverFactory, instanceOption);
  addGradeCommand(program, driverFactory);

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

  program
    .command('bench')
    .description('measure build, up, stop, exec and memory, each against a plain docker CLI baseline (see docs/benchmarks.md)')
    .option('--skip-cold', 'skip the no-cache cold build of every image', false)
    .option('--out <file>', 'where to write the JSON results', 'bench/results.json')
    .option('--worlds <n>', 'how many worlds to start at once', parseCount, 4)
    .option('--repeat <n>', 'repeats of each timed measurement (the median is reported)', parseCount, 3)
    .option('--skip-labs', 'skip the lab start and check timings', false)
    .option('--labs <ids...>', 'time only these labs')
    .option('--grade <n>', 'submissions in the batch grading benchmark (0 skips it)', (v) => Number(v), 20)
    .option('--grade-lab <lab>', 'the lab the grading benchmark grades', '3')
    .action(async (opts: { skipCold: boolean; out: string; worlds: number; repeat: number; skipLabs: boolean; labs?: string[]; grade: number; gradeLab: string }) => {
      // Loaded only here: the other commands never pay for the benchmark code.
      const { runBench } = await import('../bench/run.js');
      const driver = driverFactory();
      await interruptible((signal) =>
        runBench({
          driver,
          skipCold: opts.skipCold,
          out: opts.out,
          worlds: opts.worlds,
          repeat: opts.repeat,
          signal,
          skipLabs: opts.skipLabs,
          labs: opts.labs,
          gradeCount: opts.grade,
          gradeLab: opts.gradeLab,
        }),
      );
    });

  return program;
}

/** Maps errors to one clear line (and advice) plus an exit code. */
export function describeError(err: unknown): { message: string; code: number } {
  if (err instanceof AbortedError) return { message: 'interrupted; nothing was left running', code: EXIT.interrupted };
  if (err instanceof DockerUnavailableError) return { message: err.message, code: EXIT.docker };
  if (
    err instanceof InstanceExistsError ||
    err instanceof NoSuchInstanceError ||
    err instanceof UsageError ||
    err instanceof UnknownLabError ||
    err instanceof StandbyNameError ||
    err instanceof SubmissionError
  ) {
    return { message: err.message, code: EXIT.usage };
  }
  return { message: err instanceof Error ? err.message : String(err), code: EXIT.failure };
}

export async function main(argv: string[] = process.argv): Promise<void> {
  // A closed pipe (hurrynet status | head) is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      // commander has already printed help or the usage error.
      const exitCode = (err as { exitCode?: number }).exitCode ?? EXIT.usage;
      process.exit(code === 'commander.helpDisplayed' || code === 'commander.version' ? 0 : exitCode === 1 ? EXIT.usage : exitCode);
    }
    const { message, code: exit } = describeError(err);
    process.stderr.write(`${errRed('hurrynet: error:')} ${message}\n`);
    process.exit(exit);
  }
}

