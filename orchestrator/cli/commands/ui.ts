import { InvalidArgumentError, Option, type Command } from 'commander';
import { spawn } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { UsageError } from '../../errors.js';
import type { Driver } from '../../runtime/driver.js';
import { onPath } from '../../runtime/paths.js';
import { refuseStandby } from '../../runtime/standby.js';
import { DEFAULT_HOST, isLoopback } from '../../ui/auth.js';
import type { Cli } from '../context.js';
import { bold, dim, errRed } from '../ui.js';

export interface UiOptions {
  instance: string;
  host: string;
  port?: number;
  open: boolean;
}

export function parsePort(v: string): number {
  const n = /^\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('expected a port number from 1 to 65535 (0: a free one)');
  return n;
}

export function parseHost(v: string): string {
  if (!/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.:-]{1,253})$/.test(v))
    throw new InvalidArgumentError('expected an address or host name to listen on, such as 127.0.0.1');
  return v.replace(/^\[|\]$/g, '');
}

/** Opens the page in this machine's browser where there is one; a failure only means the URL must be opened by hand. */
function openBrowser(url: string): boolean {
  const opener =
    process.platform === 'darwin'
      ? 'open'
      : process.platform === 'win32'
        ? undefined
        : (process.env.DISPLAY || process.env.WAYLAND_DISPLAY) && onPath('xdg-open')
          ? 'xdg-open'
          : undefined;
  if (!opener) return false;
  try {
    const child = spawn(opener, [url], { detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  }
}

/** Serves the page until Ctrl-C (or SIGTERM); the labs keep running after it. */
export async function serveUi(driver: Driver, opts: UiOptions): Promise<void> {
  await driver.ping();
  if (!isLoopback(opts.host))
    process.stderr.write(
      `${errRed('warning:')} listening on ${opts.host}, not only on this machine: anyone who can reach it and has the ` +
        `address with its token can open shells in your labs. Leave --host out to listen on ${DEFAULT_HOST} only.\n`,
    );
  // Loaded only here: the other commands never pay for express, ws and marked.
  const { startUiServer } = await import('../../ui/server.js');
  let server;
  try {
    server = await startUiServer({ driver, instance: opts.instance, host: opts.host, port: opts.port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new UsageError(
        `port ${opts.port} is in use: choose another with --port, or leave --port out for a free one`,
      );
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN')
      throw new UsageError(`cannot listen on ${opts.host}: it is not an address of this machine`);
    throw err;
  }
  // bin/hurrynet.js kept V8's young generation at its first size while all this loaded; once the
  // page's first answers are ready, V8 sizes it as it usually does (growth factor 2, its default).
  void server.warmed.then(() => setFlagsFromString('--semi-space-growth-factor=2'));
  const opened = opts.open && openBrowser(server.url);
  process.stdout.write(
    `${bold('hurrynet ui')} for instance ${bold(opts.instance)}: ${opened ? 'opened' : 'open'} ${server.url}\n` +
      dim(`Ctrl-C stops the page; the labs keep running (the CLI works on the same instance meanwhile).\n`),
  );
  await new Promise<void>((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
  await server.close();
  process.stderr.write(`\nhurrynet ui stopped; whatever runs on instance ${opts.instance} keeps running.\n`);
}

export function register(program: Command, cli: Cli): void {
  program
    .command('ui')
    .description('the lab in the browser: picker, world, terminals, handout, checks and journeys on one page')
    .addOption(cli.instanceOption())
    .addOption(
      new Option('--host <host>', 'the address to listen on (others than this machine warn)')
        .default(DEFAULT_HOST)
        .argParser(parseHost),
    )
    .addOption(new Option('--port <port>', 'the port to listen on (default: a free one)').argParser(parsePort))
    .option('--no-open', 'do not open a browser, only print the address')
    .addHelpText(
      'after',
      `
The address printed carries a token that is fresh at every start: only who has it gets in.
Examples:
  hurrynet ui                      open the page for your instance
  hurrynet ui --port 8080 --no-open
  npm run lab 3 -- --web           start lab 3, then the page instead of a shell`,
    )
    .action(async (opts: UiOptions) => {
      refuseStandby(opts.instance);
      await serveUi(cli.driver(), opts);
    });
}
