import type { Command } from 'commander';
import { fstatSync, readFileSync } from 'node:fs';
import { nodeContainer } from '../../runtime/engine.js';
import { refuseStandby } from '../../runtime/standby.js';
import type { Cli } from '../context.js';

async function readAll(stream: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * What to send as the command's input. A file (exec ... < local) is meant for the command and
 * cannot block, so it is sent. A pipe may never end (an open pipe would make exec wait forever),
 * so it is read only with --stdin; a terminal or /dev/null is left alone.
 */
export async function execInput(sendStdin: boolean): Promise<string | undefined> {
  if (sendStdin) return readAll(process.stdin);
  let stat;
  try {
    stat = fstatSync(0);
  } catch {
    return undefined; // no stdin at all
  }
  if (stat.isFile()) return readFileSync(0, 'utf8');
  // Node's own child pipes are socket pairs, the shell's are FIFOs: both are pipes to the user.
  if (stat.isFIFO() || stat.isSocket())
    process.stderr.write('hurrynet: note: standard input was not sent to the command (add --stdin to send it)\n');
  return undefined;
}

export function register(program: Command, cli: Cli): void {
  program
    .command('exec')
    .description('run one command on a node; prints its output and returns its exit code')
    .argument('<node>', 'node name')
    .argument('<command...>', 'the command (put -- before it when it has options)')
    .addOption(cli.instanceOption())
    .option('--stdin', 'send standard input to the command (a redirected file is always sent)', false)
    .action(async (node: string, command: string[], opts: { instance: string; stdin: boolean }) => {
      refuseStandby(opts.instance);
      const driver = cli.driver();
      const container = await nodeContainer(driver, opts.instance, node);
      const stdin = await execInput(opts.stdin);
      const r = await driver.exec(container, command, { stdin: stdin?.length ? stdin : undefined });
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      process.exitCode = r.exitCode;
    });
}
