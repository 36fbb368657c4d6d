// The flake benchmark as a command: runs it, prints its table, and stores it under "flake" in the
// benchmark's JSON results (the other measurements in that file are kept).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Driver } from '../orchestrator/runtime/driver.js';
import { progressPrinter } from '../orchestrator/cli/ui.js';
import { benchFlake, flakeMarkdown, type FlakeOptions } from './flake.js';

export async function runFlakeBench(driver: Driver, opts: FlakeOptions & { out: string }): Promise<void> {
  await driver.ping();
  const progress = progressPrinter();
  progress(`flake benchmark: ${opts.rounds} rounds per lab under load (Ctrl-C stops and removes what it started)`);
  const report = await benchFlake(driver, progress, opts);
  const out = resolve(opts.out);
  const previous = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>) : {};
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify({ ...previous, flake: { date: new Date().toISOString(), ...report } }, null, 2) + '\n',
  );
  process.stdout.write(flakeMarkdown(report) + `\n\nresults in ${out} (key "flake")\n`);
  if (report.flips || report.inconclusive) process.exitCode = 1;
}
