// The teacher's command: grade a folder of submissions in parallel and write the reports.
import type { Command } from 'commander';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  learnerJunit,
  renderClassHtml,
  renderClassTerminal,
  renderCsv,
  renderLearnerHtml,
} from '../../../checks/class-report.js';
import { EXIT, HostNotSealedError, UsageError } from '../../errors.js';
import { autoJobs, discover, gradeClass, mergeResults, type ClassResults, type Progress } from '../../grading/grade.js';
import { findLab } from '../../labs/lab.js';
import { ensureImages } from '../../runtime/images.js';
import { sealBridges } from '../../runtime/seal.js';
import type { Cli } from '../context.js';
import { interruptible } from '../interrupt.js';
import { parseHintLevel, parseJobs, parseSeconds, parseShard } from '../options.js';
import { DEFAULT_HINT_LEVEL, MAX_HINT_LEVEL } from '../../../checks/types.js';
import { progressPrinter } from '../ui.js';

interface GradeOptions {
  lab: string;
  out: string;
  jobs: number;
  resume: boolean;
  shard?: string;
  merge?: string[];
  timeout: number;
  scriptTimeout: number;
  json: boolean;
  allowUnsealed: boolean;
  hints: number;
}

export function writeReports(outDir: string, results: ClassResults): void {
  mkdirSync(join(outDir, 'learners'), { recursive: true });
  mkdirSync(join(outDir, 'junit'), { recursive: true });
  writeFileSync(join(outDir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(outDir, 'grades.csv'), renderCsv(results));
  writeFileSync(join(outDir, 'index.html'), renderClassHtml(results));
  for (const l of results.learners) {
    writeFileSync(join(outDir, 'learners', `${l.id}.html`), renderLearnerHtml(results, l));
    writeFileSync(join(outDir, 'junit', `${l.id}.xml`), learnerJunit(results, l));
  }
}

function progressBar(): (p: Progress) => void {
  const tty = !!process.stderr.isTTY;
  return (p) => {
    const width = 24;
    const filled = p.total ? Math.round((width * p.done) / p.total) : width;
    const eta = p.etaSeconds !== undefined && p.done < p.total ? ` · about ${p.etaSeconds} s left` : '';
    const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.done}/${p.total} done · ${p.running} running · ${p.failed} failed${p.skipped ? ` · ${p.skipped} unchanged` : ''}${eta}`;
    if (tty) process.stderr.write(`\r${line}\x1b[K${p.done === p.total && p.running === 0 ? '\n' : ''}`);
    else if (p.last)
      process.stderr.write(
        `${line}  (${p.last.id}: ${p.last.status === 'graded' ? `${p.last.score}/${p.last.maxScore}` : p.last.status})\n`,
      );
  };
}

function readResults(dirs: string[]): ClassResults {
  return mergeResults(
    dirs.map((d) => {
      const f = join(d, 'results.json');
      if (!existsSync(f)) throw new Error(`no results.json in ${d}`);
      return JSON.parse(readFileSync(f, 'utf8')) as ClassResults;
    }),
  );
}

export function register(program: Command, cli: Cli): void {
  program
    .command('grade')
    .description('grade a folder of submissions (one subfolder per learner) in parallel, isolated instances')
    .requiredOption('-l, --lab <lab>', 'the lab to grade (number or slug)')
    .argument('[submissions]', 'folder with one subfolder per learner (<node>.sh, <node>/, answers.yaml, learner.yaml)')
    .option('-o, --out <dir>', 'where to write the reports', 'grading-results')
    .option('-j, --jobs <n>', 'submissions graded at once ("auto": from cores and memory)', parseJobs, autoJobs())
    .option('--resume', 'skip submissions already graded with the same lab version and content', false)
    .option(
      '--shard <i/n>',
      'grade only the i-th of n deterministic slices (to spread a class over machines)',
      parseShard,
    )
    .option('--merge <dirs...>', 'combine the results.json of several output folders into --out instead of grading')
    .option('--timeout <seconds>', 'time limit for one submission', parseSeconds, 300)
    .option('--script-timeout <seconds>', 'time limit for one submission script', parseSeconds, 60)
    .option('--json', 'print results.json to stdout as well', false)
    .option(
      '--hints <level>',
      `hint levels in each learner's report: 0 none, 1 where to look, 2 which tool, ${MAX_HINT_LEVEL} the fix`,
      parseHintLevel,
      DEFAULT_HINT_LEVEL,
    )
    .option('--allow-unsealed', 'grade even when the host cannot be sealed from the lab bridges (docs/seal.md)', false)
    .addHelpText(
      'after',
      `
Writes to --out: results.json, grades.csv, index.html (class overview), learners/<id>.html (feedback
to hand back), junit/<id>.xml. Exit code 0 when every submission was graded (whatever its score).`,
    )
    .action(async (dir: string | undefined, opts: GradeOptions) => {
      if (!dir && !opts.merge) throw new UsageError('give the submissions folder (or --merge DIR...)');
      const lab = await findLab(opts.lab);
      const outDir = resolve(opts.out);
      let results: ClassResults;
      if (opts.merge) results = readResults(opts.merge);
      else {
        const driver = cli.driver();
        await driver.ping();
        const images = await ensureImages(driver, progressPrinter());
        // Submissions are untrusted code with root in their world: refuse to run them on a host
        // their bridges could reach, unless the teacher says otherwise.
        const seal = await sealBridges(driver, [], { image: images.images.base });
        if (!seal.sealed) {
          if (!opts.allowUnsealed) throw new HostNotSealedError(seal.reason ?? 'unknown reason');
          process.stderr.write(`warning: grading on an unsealed host (${seal.reason}), as --allow-unsealed asks\n`);
        }
        const submissions = discover(resolve(dir as string), lab);
        if (!submissions.length) throw new Error(`no submissions in ${dir}: expected one subfolder per learner`);
        process.stderr.write(`grading ${submissions.length} submissions of lab ${lab.id} with ${opts.jobs} at once\n`);
        results = await interruptible((signal) =>
          gradeClass(driver, lab, submissions, {
            jobs: opts.jobs,
            outDir,
            resume: opts.resume,
            shard: opts.shard,
            timeoutSeconds: opts.timeout,
            scriptTimeoutSeconds: opts.scriptTimeout,
            cpusPerNode: 1,
            requireSeal: !opts.allowUnsealed,
            hintLevel: opts.hints,
            onProgress: progressBar(),
            onRetry: (sub, attempt, cause) =>
              process.stderr.write(
                `\n${sub.id}: attempt ${attempt} spoiled by the grader (${cause.split('\n')[0]}); trying again on a fresh world\n`,
              ),
            onLeftover: (instance, error) => {
              process.stderr.write(
                `\nwarning: Docker would not remove the finished world "${instance}" (${error.split('\n')[0]}); ` +
                  `remove it with "npx hurrynet stop --instance ${instance}"\n`,
              );
              process.exitCode = EXIT.failure;
            },
            signal,
          }),
        );
      }
      writeReports(outDir, results);
      process.stdout.write(
        opts.json
          ? JSON.stringify(results, null, 2) + '\n'
          : renderClassTerminal(results) + `\nreports in ${outDir} (index.html, results.json, grades.csv, junit/)\n`,
      );
      if (results.learners.some((l) => l.status === 'error')) process.exitCode = EXIT.failure;
      else if (results.learners.some((l) => l.status === 'inconclusive')) process.exitCode = EXIT.inconclusive;
    });
}
