import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { failedRequired, renderJson, renderJunit, renderTerminal } from '../../../checks/report.js';
import { EXIT, NoSuchInstanceError } from '../../errors.js';
import { findLab } from '../../labs/lab.js';
import { readAnswersState, recordChecked, recordReport } from '../../labs/courseflow.js';
import { checkLab, runningLab, userSeed } from '../../labs/labrun.js';
import type { Cli } from '../context.js';
import { parseHintLevel, suggest, withLearnerFlags } from '../options.js';
import { DEFAULT_HINT_LEVEL, MAX_HINT_LEVEL } from '../../../checks/types.js';
import { bold, dim, green, red } from '../ui.js';

interface CheckOptions {
  instance: string;
  json: boolean;
  junit?: string;
  verbose: boolean;
  /** true: `--hint` without a level, which asks for the next level after the first. */
  hint?: number | true;
}

export function register(program: Command, cli: Cli): void {
  program
    .command('check')
    .description('grade the running lab: every check with points, evidence and a hint')
    .argument('[lab]', 'the lab you expect the instance to run (optional)')
    .addOption(cli.instanceOption())
    .option('--json', 'print the report as JSON', false)
    .option('--junit <file>', 'also write a JUnit XML report')
    .option('-v, --verbose', 'all of the evidence, for passing checks too (what your program printed)', false)
    .option(
      '--hint [level]',
      `more help for a failing check: 2 names the tool or file, ${MAX_HINT_LEVEL} the fix (--hint alone: 2)`,
      parseHintLevel,
    )
    .addHelpText(
      'after',
      `
Hints come in levels: check shows level 1 (where to look); --hint 2 adds which tool or file shows
it; --hint 3 adds the fix. Try each level before the next.`,
    )
    .action(async (query: string | undefined, opts: CheckOptions) => {
      const driver = cli.driver();
      const running = await runningLab(driver, opts.instance);
      if (!running) {
        throw new NoSuchInstanceError(
          `no lab is running in instance "${opts.instance}". Start one with: ${suggest('lab', [query ?? '<number>'], { instance: opts.instance })}`,
        );
      }
      // The learner's variation goes with the suggestion, unless it is their default anyway.
      const flags = { instance: opts.instance, seed: running.seed === userSeed() ? undefined : running.seed };
      if (query) {
        const wanted = await findLab(query);
        if (wanted.id !== running.lab.id) {
          throw new NoSuchInstanceError(
            `instance "${opts.instance}" runs lab ${running.lab.id} (${running.lab.slug}), not lab ${wanted.id}. ` +
              `Start lab ${wanted.id} with: ${suggest('lab', [String(wanted.number)], flags)}`,
          );
        }
      }
      // What the answers file held when graded: \`lab N\` asks before replacing answers changed after it.
      const { answers } = await readAnswersState(driver, opts.instance);
      const hintLevel = opts.hint === true ? DEFAULT_HINT_LEVEL + 1 : (opts.hint ?? DEFAULT_HINT_LEVEL);
      const graded = await checkLab(driver, opts.instance, running, { hintLevel });
      await recordChecked(driver, opts.instance, answers);
      // Hints that name hurrynet commands name them for this instance.
      const report = {
        ...graded,
        results: graded.results.map((r) =>
          r.hints ? { ...r, hints: r.hints.map((h) => withLearnerFlags(h, flags)) } : r,
        ),
      };
      // The browser page (hurrynet ui) shows the last check, whichever side ran it.
      await recordReport(driver, opts.instance, report);
      const hintCommand = (level: number) =>
        suggest('check', [String(running.lab.number), '--hint', String(level)], flags);
      if (opts.junit) writeFileSync(opts.junit, renderJunit(report));
      process.stdout.write(
        opts.json
          ? renderJson(report)
          : renderTerminal(report, { bold, green, red, dim }, { verbose: opts.verbose, hintCommand }),
      );
      process.exitCode = report.passed ? EXIT.ok : failedRequired(report).length ? EXIT.failure : EXIT.inconclusive;
    });
}
