// Labs on a running instance: start one in its faulty state, apply a submission, grade it.
import { randomBytes } from 'node:crypto';
import { ANSWERS, parseAnswers, readSubmission, type SubmissionPlan } from './submission.js';
import { Driver } from './driver.js';
import { clearLeftovers, listInstances, up, type UpResult } from './engine.js';
import { claimStandby, readClaim, standbyEnabled } from './standby.js';
import { imageSet } from './images.js';
import { defaultSeed, findLab, loadLabs, varsFor, type Lab, type Vars } from './lab.js';
import { containerName, LABEL, planInstance, PROJECT, type InstancePlan } from './plan.js';
import type { Progress } from './images.js';
import { canonicalWorld, nodeNames, type World } from './world.js';
import { runChecks } from '../checks/runner.js';
import type { Answers, CheckContext, Evidence, Host, Report } from '../checks/types.js';
import { userInfo } from 'node:os';

export const ANSWERS_PATH = '/root/answers.yaml';
export const TASK_PATH = '/root/TASK.txt';
export const SCRIPT_TIMEOUT_SECONDS = 60;

export function userSeed(): string {
  let name = 'learner';
  try {
    name = userInfo().username;
  } catch {
    /* keep the fallback */
  }
  return defaultSeed(name);
}

export function labWorld(lab: Lab, vars: Vars): World {
  const base = structuredClone(canonicalWorld);
  return lab.overlay ? lab.overlay(base, vars) : base;
}

export interface StartLabOptions {
  instance: string;
  seed: string;
  replace?: boolean;
  progress?: Progress;
  signal?: AbortSignal;
  /** Claim the standby world when the lab allows it (default: unless HURRYNET_STANDBY=0). */
  standby?: boolean;
  /** CPU limit per container, in cores (batch grading). */
  cpus?: number;
}

export interface StartLabResult extends UpResult {
  lab: Lab;
  vars: Vars;
}

/** The lab after this one in the course (the world a standby should be built for next). */
export async function nextLab(lab: Lab): Promise<Lab | undefined> {
  const labs = await loadLabs();
  return labs[labs.findIndex((l) => l.id === lab.id) + 1];
}

/** Starts the lab's world (claiming the standby world when it can) and injects its faults. */
export async function startLab(driver: Driver, lab: Lab, opts: StartLabOptions): Promise<StartLabResult> {
  const started = Date.now();
  const vars = varsFor(lab, opts.seed);
  const world = labWorld(lab, vars);
  let result: UpResult | undefined;
  if (opts.standby ?? standbyEnabled()) {
    await clearLeftovers(driver, opts.instance, !!opts.replace);
    if (await claimStandby(driver, opts.instance, { lab: lab.id, seed: opts.seed }, world)) {
      opts.progress?.('using the standby world');
      result = { plan: planFor(world, opts.instance, lab.id), seconds: 0, leftoversRemoved: 0, fromStandby: true };
    }
  }
  result ??= await up(driver, {
    instance: opts.instance,
    lab: lab.id,
    world,
    replace: opts.replace,
    progress: opts.progress,
    signal: opts.signal,
    labels: { [LABEL.seed]: opts.seed },
    cpus: opts.cpus,
  });
  const faults = [...lab.faults(vars)];
  const task = lab.task?.(vars);
  if (task) {
    const text = Object.entries(task).map(([k, v]) => `${k}: ${v}`).join('\n');
    faults.push({ node: 'alice', description: 'task card', script: `cat > ${TASK_PATH} <<'HURRYNET_TASK'\n${text}\nHURRYNET_TASK` });
  }
  if (faults.length) opts.progress?.(`putting the world into the state of lab ${lab.id} (${faults.length} changes)...`);
  await Promise.all(
    faults.map(async (f) => {
      const r = await driver.exec(containerName(opts.instance, f.node), ['bash', '-ec', f.script], { timeoutMs: 30000 });
      if (r.exitCode !== 0) throw new Error(`could not set up lab ${lab.id} on ${f.node} (${f.description}): ${(r.stderr || r.stdout).trim()}`);
    }),
  );
  return { ...result, seconds: (Date.now() - started) / 1000, lab, vars };
}

export interface RunningLab {
  lab: Lab;
  seed: string;
  vars: Vars;
}

/** Which lab (and seed) an instance runs: from its labels, or from the claim of a standby world. */
export async function runningLab(driver: Driver, instance: string): Promise<RunningLab | undefined> {
  const containers = (await listInstances(driver)).get(instance);
  if (!containers?.length) return undefined;
  const labels = containers[0]?.labels ?? {};
  let id = labels[LABEL.lab];
  let seed = labels[LABEL.seed];
  if (!id || id === 'free') {
    const claim = await readClaim(driver, instance);
    if (!claim) return undefined;
    id = claim.lab;
    seed = claim.seed;
  }
  const lab = await findLab(id);
  seed ||= userSeed();
  return { lab, seed, vars: varsFor(lab, seed) };
}

export class ScriptFailedError extends Error {}

/** The plan of a claimed world, for reporting (its Docker subnets are whatever the standby got). */
function planFor(world: World, instance: string, lab: string): InstancePlan {
  const subnets = Object.fromEntries(world.links.map((l) => [l.name, '0.0.0.0/28']));
  return planInstance(world, { instance, lab, subnets, images: imageSet().roles });
}

/** Applies a validated submission: files first, then answers, then scripts (with a time limit). */
export async function applySubmission(
  driver: Driver,
  instance: string,
  lab: Lab,
  plan: SubmissionPlan,
  opts: { progress?: Progress; scriptTimeoutSeconds?: number } = {},
): Promise<{ node: string; output: string }[]> {
  for (const t of plan.trees) {
    opts.progress?.(`copying ${t.files.length} files onto ${t.node}`);
    await driver.copyDir(containerName(instance, t.node), t.path, '/');
  }
  if (plan.answers !== undefined) {
    const parsed = parseAnswers(plan.answers, lab.questions.map((q) => q.key));
    if (!parsed.ok) throw new ScriptFailedError(parsed.error);
    await driver.exec(containerName(instance, 'alice'), ['sh', '-c', `cat > ${ANSWERS_PATH}`], { stdin: plan.answers });
  }
  const limit = opts.scriptTimeoutSeconds ?? (Number(process.env.HURRYNET_SCRIPT_TIMEOUT) || SCRIPT_TIMEOUT_SECONDS);
  const outputs: { node: string; output: string }[] = [];
  for (const s of plan.scripts) {
    opts.progress?.(`running ${s.node}.sh on ${s.node}`);
    // timeout(1) inside the node kills the whole script, so nothing keeps running after the limit.
    const r = await driver.exec(containerName(instance, s.node), ['timeout', '-s', 'KILL', String(limit), 'bash', '-s'], {
      stdin: s.content,
      timeoutMs: (limit + 10) * 1000,
    });
    const output = (r.stdout + r.stderr).trim();
    if (r.exitCode === 137) throw new ScriptFailedError(`${s.node}.sh did not finish within ${limit} s and was stopped`);
    if (r.exitCode !== 0) {
      throw new ScriptFailedError(`${s.node}.sh failed with exit code ${r.exitCode}; its last lines:\n${output.split('\n').slice(-8).join('\n').replace(/^/gm, '    ')}`);
    }
    outputs.push({ node: s.node, output });
  }
  return outputs;
}

export function validateSubmission(lab: Lab, vars: Vars, dir: string): SubmissionPlan {
  return readSubmission(dir, lab.submissionNodes, nodeNames(labWorld(lab, vars)));
}

/** A check context backed by Docker: probes in sidecars, node commands through exec. */
export function dockerContext(driver: Driver, instance: string, lab: Lab, vars: Vars): CheckContext & { close(): Promise<void> } {
  const sidecars = new Map<string, Promise<Host>>();
  const created: string[] = [];
  const toEvidence = (where: string, command: string, r: { exitCode: number; stdout: string; stderr: string }): Evidence => ({
    where,
    command,
    exitCode: r.exitCode,
    output: (r.stdout + (r.stderr ? (r.stdout && !r.stdout.endsWith('\n') ? '\n' : '') + r.stderr : '')).slice(0, 20000),
  });
  const hostFor = (where: string, container: string): Host => ({
    where,
    async run(command: string, timeoutMs = 10000) {
      try {
        const r = await driver.exec(container, ['bash', '-c', command], { timeoutMs });
        return toEvidence(where, command, r);
      } catch (err) {
        return { where, command, exitCode: -1, output: (err as Error).message };
      }
    },
  });
  let answers: Promise<Answers> | undefined;
  return {
    instance,
    vars,
    answers() {
      answers ??= (async (): Promise<Answers> => {
        const r = await driver.exec(containerName(instance, 'alice'), ['cat', ANSWERS_PATH]).catch(() => undefined);
        if (!r || r.exitCode !== 0) return { ok: false, error: `there is no ${ANSWERS_PATH} on alice (write your answers there, or submit an ${ANSWERS})` };
        const parsed = parseAnswers(r.stdout, lab.questions.map((q) => q.key));
        return parsed.ok ? { ok: true, values: parsed.values, raw: r.stdout } : { ok: false, error: parsed.error, raw: r.stdout };
      })();
      return answers;
    },
    probe(node: string) {
      let host = sidecars.get(node);
      if (!host) {
        host = (async () => {
          const name = `${PROJECT}-${instance}-probe-${node}-${randomBytes(3).toString('hex')}`;
          const labels = Driver.projectLabels({ [LABEL.instance]: instance, [LABEL.kind]: 'probe', [LABEL.node]: node });
          await driver.startSidecar(name, containerName(instance, node), imageSet().base, labels);
          created.push(name);
          return hostFor(`probe@${node}`, name);
        })();
        sidecars.set(node, host);
      }
      return host;
    },
    node(node: string) {
      return hostFor(node, containerName(instance, node));
    },
    async close() {
      await Promise.allSettled([...sidecars.values()]);
      await Promise.all(created.map((n) => driver.removeContainer(n)));
    },
  };
}

/** Grades the live instance against its lab's checks. */
export async function checkLab(driver: Driver, instance: string, running: RunningLab): Promise<Report> {
  const { lab, seed, vars } = running;
  const ctx = dockerContext(driver, instance, lab, vars);
  try {
    return await runChecks(lab.checks(vars), ctx, { lab: lab.id, title: lab.title, instance, seed });
  } finally {
    await ctx.close();
  }
}
