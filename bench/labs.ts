// Benchmarks of the learner's and the teacher's commands: `lab N --no-shell` with and without a
// standby world (against a plain `up` in the same run), `check N` on a passing world, and batch
// grading with --jobs auto against --jobs 1.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { engineMemoryBytes } from '../orchestrator/runtime/cgroup.js';
import type { Driver } from '../orchestrator/runtime/driver.js';
import { stop } from '../orchestrator/runtime/engine.js';
import { autoJobs, discover, gradeClass, type ClassResults } from '../orchestrator/grading/grade.js';
import type { Progress } from '../orchestrator/runtime/images.js';
import { findLab, type Lab, loadLabs, varsFor } from '../orchestrator/labs/lab.js';
import { applySubmission, labWorld, validateSubmission } from '../orchestrator/labs/labrun.js';
import { projectRoot } from '../orchestrator/runtime/paths.js';
import { ensureStandby, listStandby } from '../orchestrator/runtime/standby.js';

export interface Measured {
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  baselineName?: string;
  target?: number;
  targetOn?: 'ratio' | 'value';
}

export const LAB_INSTANCE = 'bench-lab';

/** Runs the CLI as a learner would (stdin closed) and returns its wall time in seconds. */
function cliSeconds(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ seconds: number; code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [join(projectRoot(), 'bin', 'hurrynet.js'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', ...env },
    });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ seconds: (performance.now() - t0) / 1000, code, output }));
  });
}

function round(v: number, digits = 2): number {
  return Math.round(v * 10 ** digits) / 10 ** digits;
}

/** Start and check times of every lab (or the chosen ones). */
export async function benchLabs(driver: Driver, progress: Progress, only?: string[]): Promise<Measured[]> {
  const labs = (await loadLabs()).filter(
    (l) => !only?.length || only.includes(l.id) || only.includes(String(l.number)),
  );
  const out: Measured[] = [];
  // The plain baseline of this run: `hurrynet up` of the free world from the CLI, as a learner would
  // type it, so both sides pay Node's start-up (the mean of two, no standby world).
  const plainUps: number[] = [];
  for (let i = 0; i < 2; i++) {
    const r = await cliSeconds(['up', '-q', '--replace', '--instance', LAB_INSTANCE], { HURRYNET_STANDBY: '0' });
    if (r.code !== 0) throw new Error(`the plain up did not start: ${r.output}`);
    plainUps.push(r.seconds);
    await stop(driver, LAB_INSTANCE);
  }
  const plainUp = plainUps.reduce((a, b) => a + b, 0) / plainUps.length;
  out.push({ name: 'plain hurrynet up (lab baseline)', value: round(plainUp), unit: 's' });
  try {
    for (const lab of labs) {
      {
        progress(`lab ${lab.id}: preparing a standby world of its world`);
        // Another process (a learner's background preparation) may hold the lock: wait for it.
        while ((await ensureStandby(driver, () => undefined, labWorld(lab, varsFor(lab, 'bench')))) === 'busy') {
          await new Promise((r) => setTimeout(r, 1000));
        }
        const warm = await cliSeconds(
          ['lab', lab.id, '--no-shell', '-q', '--seed', 'bench', '--instance', LAB_INSTANCE],
          { HURRYNET_STANDBY: 'claim' },
        );
        if (warm.code !== 0) throw new Error(`lab ${lab.id} did not start: ${warm.output}`);
        out.push({
          name: `lab ${lab.id} --no-shell (standby ready)`,
          value: round(warm.seconds),
          unit: 's',
          target: lab.number <= 8 ? 1.5 : 2,
          targetOn: 'value',
        });
        await stop(driver, LAB_INSTANCE);
      }
      const cold = await cliSeconds(
        ['lab', lab.id, '--no-shell', '-q', '--seed', 'bench', '--instance', LAB_INSTANCE],
        { HURRYNET_STANDBY: '0' },
      );
      if (cold.code !== 0) throw new Error(`lab ${lab.id} did not start: ${cold.output}`);
      out.push({
        name: `lab ${lab.id} --no-shell (no standby)`,
        value: round(cold.seconds),
        unit: 's',
        baseline: round(plainUp),
        baselineName: 'plain hurrynet up',
        target: 1.2,
        targetOn: 'ratio',
      });
      // Grade a passing world: the reference solution applied.
      await applySubmission(
        driver,
        LAB_INSTANCE,
        lab,
        validateSubmission(lab, varsFor(lab, 'bench'), join(lab.dir, 'solution')),
      );
      const check = await cliSeconds(['check', '--instance', LAB_INSTANCE]);
      if (check.code !== 0)
        progress(`  warning: the reference solution of lab ${lab.id} did not pass in the bench:\n${check.output}`);
      out.push({
        name: `check ${lab.id} (passing world)`,
        value: round(check.seconds),
        unit: 's',
        target: lab.number <= 8 ? 2 : lab.slug === 'video-service' ? 15 : 3,
        targetOn: 'value',
      });
      await stop(driver, LAB_INSTANCE);
    }
  } finally {
    await stop(driver, LAB_INSTANCE).catch(() => undefined);
    for (const s of await listStandby(driver)) await stop(driver, s.instance).catch(() => undefined);
  }
  return out;
}

/** A generated class: copies of the reference solution and empty submissions, alternating. */
function makeClass(lab: Lab, count: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'hurrynet-bench-class-'));
  for (let i = 1; i <= count; i++) {
    const sub = join(dir, `learner${String(i).padStart(3, '0')}`);
    if (i % 2) cpSync(join(lab.dir, 'solution'), sub, { recursive: true });
    else mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, 'learner.yaml'), `id: learner${i}\n`);
  }
  return dir;
}

export interface GradedRun {
  seconds: number;
  results: ClassResults;
  /** The most grading containers seen at once, and the engine's peak memory meanwhile. */
  peakContainers: number;
  peakBytes: number;
}

/** Grades a generated class of `count` submissions once, sampling containers and memory every second. */
export async function gradeGenerated(
  driver: Driver,
  progress: Progress,
  lab: Lab,
  count: number,
  jobs: number | 'auto',
  prefix: string,
  classDir?: string,
): Promise<GradedRun> {
  const dir = classDir ?? makeClass(lab, count);
  const outDir = mkdtempSync(join(tmpdir(), 'hurrynet-bench-grades-'));
  const j = jobs === 'auto' ? autoJobs() : jobs;
  let peakContainers = 0;
  let peakBytes = 0;
  const sample = async () => {
    const containers = await driver.listContainers({ 'io.hurrynet.project': 'hurrynet' }).catch(() => []);
    peakContainers = Math.max(peakContainers, containers.filter((c) => c.name.startsWith(`hurrynet-${prefix}`)).length);
    peakBytes = Math.max(peakBytes, engineMemoryBytes());
  };
  const timer = setInterval(() => void sample(), 1000);
  try {
    const t0 = performance.now();
    const results = await gradeClass(driver, lab, discover(dir, lab), {
      jobs: j,
      outDir,
      instancePrefix: prefix,
      onProgress: (p) => p.last && progress(`  grading lab ${lab.id} (jobs ${j}): ${p.done}/${p.total}`),
    });
    return { seconds: (performance.now() - t0) / 1000, results, peakContainers, peakBytes };
  } finally {
    clearInterval(timer);
    if (!classDir) rmSync(dir, { recursive: true, force: true });
    rmSync(outDir, { recursive: true, force: true });
  }
}

/** Grades the same generated class with --jobs auto and --jobs 1 and reports the speed-up. */
export async function benchGrading(
  driver: Driver,
  progress: Progress,
  labQuery: string,
  count: number,
): Promise<Measured[]> {
  const lab = await findLab(labQuery);
  const classDir = makeClass(lab, count);
  const jobs = autoJobs();
  try {
    progress(`grading ${count} submissions of lab ${lab.id} with --jobs ${jobs}`);
    const parallel = await gradeGenerated(driver, progress, lab, count, jobs, `bench-g${jobs}`, classDir);
    progress(`grading ${count} submissions of lab ${lab.id} with --jobs 1`);
    const sequential = await gradeGenerated(driver, progress, lab, count, 1, 'bench-g1', classDir);
    const differing = parallel.results.learners.filter(
      (l, i) => l.score !== sequential.results.learners[i]?.score,
    ).length;
    if (differing) progress(`  warning: ${differing} learners scored differently in parallel and in sequence`);
    const tag = `lab ${lab.id}`;
    return [
      {
        name: `grade ${count} x ${tag}, --jobs ${jobs}`,
        value: round(parallel.seconds, 1),
        unit: 's',
        baseline: round(sequential.seconds, 1),
        baselineName: '--jobs 1',
        // A speed-up of at least 3x over one job at a time.
        target: 0.34,
        targetOn: 'ratio',
      },
      {
        name: `grading ${tag}: seconds per submission (auto)`,
        value: round(parallel.seconds / count),
        unit: 's',
        target: 2.5,
        targetOn: 'value',
      },
      { name: `grading ${tag}: most containers at once`, value: parallel.peakContainers, unit: 'containers' },
      // "Different scores" counts the learners whose score changed: the target is none.
      {
        name: `grading ${tag}: learners scored differently in parallel`,
        value: differing,
        unit: 'learners',
        target: 0,
        targetOn: 'value',
      },
      {
        name: `grading ${tag}: peak memory of all containers`,
        value: round(parallel.peakBytes / 2 ** 20, 1),
        unit: 'MB',
      },
    ];
  } finally {
    rmSync(classDir, { recursive: true, force: true });
  }
}
