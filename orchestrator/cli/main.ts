// The hurrynet command line: a thin shell over the engine, one module per command in commands/.
// Every command takes --help.
import { Command, CommanderError } from 'commander';
import { AbortedError, EXIT, exitCodeOf } from '../errors.js';
import { Driver } from '../runtime/driver.js';
import { cliContext } from './context.js';
import { errRed } from './ui.js';
import { register as build } from './commands/build.js';
import { register as bench } from './commands/bench.js';
import { register as check } from './commands/check.js';
import { register as clean } from './commands/clean.js';
import { register as compose } from './commands/compose.js';
import { register as doctor, preflightNote } from './commands/doctor.js';
import { register as exec } from './commands/exec.js';
import { register as grade } from './commands/grade.js';
import { register as graph } from './commands/graph.js';
import { register as journey } from './commands/journey.js';
import { register as lab } from './commands/lab.js';
import { register as list } from './commands/list.js';
import { register as shell } from './commands/shell.js';
import { register as standby } from './commands/standby.js';
import { register as status } from './commands/status.js';
import { register as stop } from './commands/stop.js';
import { register as ui } from './commands/ui.js';
import { register as serve } from './commands/serve.js';
import { register as up } from './commands/up.js';

export { EXIT, UsageError } from '../errors.js';
export { instanceFlag } from './options.js';

/** The command an action ran for, per program (for the doctor's fast form in run()). */
const ran = new WeakMap<Command, { command: string; driver: () => Driver }>();

/** Errors commander raised (and so already printed), told apart from errors thrown by actions. */
const fromCommander = new WeakSet<CommanderError>();
function markCommanderError(err: CommanderError): never {
  fromCommander.add(err);
  throw err;
}

export function buildProgram(driverFactory: () => Driver = () => new Driver()): Command {
  const program = new Command();
  // Set before adding commands so that every subcommand inherits it: errors reach main().
  program.exitOverride(markCommanderError);
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
  const cli = cliContext(driverFactory);
  // Which command ran, so that run() can add the doctor's engine findings under its error.
  program.hook('preAction', (_root, action) => void ran.set(program, { command: action.name(), driver: cli.driver }));
  // In help order.
  for (const register of [
    doctor,
    up,
    shell,
    exec,
    journey,
    status,
    stop,
    clean,
    build,
    graph,
    list,
    lab,
    standby,
    check,
    ui,
    serve,
    grade,
    compose,
    bench,
  ])
    register(program, cli);
  return program;
}

/** Maps errors to one clear line (and advice) plus an exit code. */
export function describeError(err: unknown): { message: string; code: number } {
  if (err instanceof AbortedError) return { message: 'interrupted; nothing was left running', code: EXIT.interrupted };
  return { message: err instanceof Error ? err.message : String(err), code: exitCodeOf(err) };
}

/**
 * Runs one command line; returns the exit code for an error (undefined: the action set
 * process.exitCode or succeeded). Each error is printed once: commander's by commander.
 */
export async function run(
  program: Command,
  argv: string[],
  writeErr: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number | undefined> {
  try {
    await program.parseAsync(argv);
    return undefined;
  } catch (err) {
    if (err instanceof CommanderError && fromCommander.has(err)) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
      // commander exits 1 for its usage errors; ours is EXIT.usage.
      return err.exitCode === 1 ? EXIT.usage : err.exitCode;
    }
    const { message, code } = describeError(err);
    writeErr(`${errRed('hurrynet: error:')} ${message}\n`);
    const action = ran.get(program);
    const note = await preflightNote(action?.command, err, action?.driver ?? (() => new Driver()));
    if (note) writeErr(note);
    return code;
  }
}

export async function main(argv: string[] = process.argv): Promise<void> {
  // A closed pipe (hurrynet status | head) is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const code = await run(buildProgram(), argv);
  if (code !== undefined) process.exit(code);
}
