import type { Command } from 'commander';
import { doctor, preflightFor, type Finding } from '../../doctor/doctor.js';
import type { Status } from '../../doctor/findings.js';
import type { Driver } from '../../runtime/driver.js';
import type { Cli } from '../context.js';
import { bold, dim, errDim, errRed, green, printJson, red, yellow } from '../ui.js';

const MARK: Record<Status, (s: string) => string> = {
  ok: (s) => green(s),
  warn: (s) => yellow(s),
  fail: (s) => red(s),
  unknown: (s) => dim(s),
};

/** One finding as two or three lines: status and title, what was seen, and (unless ok) the fix. */
export function renderFinding(f: Finding, colour: Record<Status, (s: string) => string> = MARK): string {
  const head = `${colour[f.status](f.status.toUpperCase().padEnd(7))} ${f.title}`;
  const lines = [head, `        ${f.detail}`];
  if (f.status !== 'ok') lines.push(`        fix: ${f.fix}`);
  return lines.join('\n') + '\n';
}

export function register(program: Command, cli: Cli): void {
  program
    .command('doctor')
    .description('check this machine first: Docker, cgroups, firewall, kernel, host seal, subnets, disk, images')
    .option('--json', 'print the findings as JSON', false)
    .addHelpText(
      'after',
      `
Each finding is ok, warn (labs run, with the limit it names), fail (no lab can run) or unknown
(not observable from here, for example on Docker Desktop), with a fix. Exit 0 when no finding fails.`,
    )
    .action(async (opts: { json: boolean }) => {
      const { findings, code } = await doctor(cli.driver());
      if (opts.json) printJson({ ok: code === 0, findings });
      else {
        for (const f of findings) process.stdout.write(renderFinding(f));
        const counts = (['fail', 'warn', 'unknown'] as const)
          .map((s) => [s, findings.filter((f) => f.status === s).length] as const)
          .filter(([, n]) => n > 0)
          .map(([s, n]) => `${n} ${s}`);
        process.stdout.write(
          `\n${code === 0 ? green(bold('a lab can run here')) : red(bold('no lab can run here yet'))}` +
            `${counts.length ? ` (${counts.join(', ')})` : ''}\n`,
        );
      }
      process.exitCode = code;
    });
}

const ON_STDERR: Record<Status, (s: string) => string> = {
  ok: (s) => s,
  warn: (s) => s,
  fail: errRed,
  unknown: errDim,
};

/**
 * What the CLI prints under a failed up, lab, grade or build when the engine or an image build
 * is the cause: the doctor's fast findings that are not ok (undefined: nothing to add).
 */
export async function preflightNote(
  command: string | undefined,
  err: unknown,
  driver: () => Driver,
): Promise<string | undefined> {
  const findings = await preflightFor(command, err, driver);
  if (!findings) return undefined;
  if (!findings.length)
    return `${errDim('hurrynet doctor: the engine checks find nothing wrong; run hurrynet doctor for the rest.')}\n`;
  return `hurrynet doctor (engine checks):\n${findings.map((f) => renderFinding(f, ON_STDERR)).join('')}`;
}
