import type { Command } from 'commander';
import type { Cli } from '../context.js';
import { interruptible } from '../interrupt.js';
import { parseCount, parseCountList, parseCountOrZero } from '../options.js';

interface BenchOptions {
  skipCold: boolean;
  out: string;
  worlds: number;
  repeat: number;
  skipLabs: boolean;
  labs?: string[];
  grade: number;
  gradeLabs: string[];
  curves: boolean;
  curveWorlds: number[];
  curveGrades: number[];
  curveLab: string;
  flake?: number;
}

export function register(program: Command, cli: Cli): void {
  program
    .command('bench')
    .description(
      'measure build, up, stop, exec and memory, each against a plain docker CLI baseline (see docs/benchmarks.md)',
    )
    .option('--skip-cold', 'skip the no-cache cold build of every image', false)
    .option('--out <file>', 'where to write the JSON results', 'bench/results.json')
    .option('--worlds <n>', 'how many worlds to start at once', parseCount, 4)
    .option('--repeat <n>', 'repeats of each timed measurement (the median is reported)', parseCount, 3)
    .option('--skip-labs', 'skip the lab start and check timings', false)
    .option('--labs <ids...>', 'time only these labs')
    .option('--grade <n>', 'submissions in the batch grading benchmark (0 skips it)', parseCountOrZero, 20)
    .option('--grade-labs <labs...>', 'the labs the grading benchmark grades', ['1', '3', '7', '12'])
    .option('--curves', 'also measure how cost grows (worlds at once, class sizes) and draw SVG charts', false)
    .option('--curve-worlds <list>', 'worlds started at once for the world curve', parseCountList, [1, 2, 4, 8, 16])
    .option('--curve-grades <list>', 'class sizes for the grading curve', parseCountList, [5, 10, 20, 40])
    .option('--curve-lab <lab>', 'the lab the grading curve grades', '1')
    .option(
      '--flake <k>',
      'only the flake benchmark: grade every lab (or --labs) untouched and solved K times under load',
      parseCount,
    )
    .action(async (opts: BenchOptions) => {
      const driver = cli.driver();
      // Loaded only here: the other commands never pay for the benchmark code.
      if (opts.flake) {
        const rounds = opts.flake;
        const { runFlakeBench } = await import('../../../bench/flake-cli.js');
        await interruptible((signal) => runFlakeBench(driver, { rounds, labs: opts.labs, out: opts.out, signal }));
        return;
      }
      const { runBench } = await import('../../../bench/run.js');
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
          gradeLabs: opts.gradeLabs,
          curveWorlds: opts.curves ? opts.curveWorlds : [],
          curveGrades: opts.curves ? opts.curveGrades : [],
          curveLab: opts.curveLab,
        }),
      );
    });
}
