// Labs on a running instance: start one in its faulty state, apply a submission, grade it.
import { randomBytes } from 'node:crypto';
import { ANSWERS, parseAnswers, readSubmission, runOrder, type SubmissionPlan } from './submission.js';
import { Driver } from '../runtime/driver.js';
import { clearLeftovers, listInstances, sealInstance, up, type UpResult } from '../runtime/engine.js';
import { claimStandby, readClaim, standbyEnabled } from '../runtime/standby.js';
import { imageSet } from '../runtime/images.js';
import { traceProbe } from '../journey/trace.js';
import { defaultSeed, findLab, loadLabs, varsFor, type Lab, type LabDefinition, type Vars } from './lab.js';
import { containerName, LABEL, nodeCaps, planInstance, PROJECT, type InstancePlan } from '../runtime/plan.js';
import type { Progress } from '../runtime/images.js';
import { canonicalWorld, freshSeat, nodeNames, type World } from '../world/world.js';
import { loadScale, measureTimeScale } from '../runtime/load.js';
import { FILES } from '../world/files.js';
import { realClock, runChecks } from '../../checks/runner.js';
import {
  graderFailure,
  type Answers,
  type Check,
  type CheckContext,
  type CheckResult,
  type Evidence,
  type Host,
  type Report,
  type Witness,
} from '../../checks/types.js';
import { existsSync, readdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { ScriptFailedError } from '../errors.js';
import { findWitness, readWitness, startWitnesses } from './witness.js';

export const ANSWERS_PATH = FILES.answers;
export const TASK_PATH = FILES.taskCard;
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

/** The folder of files a lab copies onto its nodes at start: labs/NN-slug/files/<node>/... */
export const LAB_FILES = 'files';

/** The lab's per-node file trees; a folder named after a node the world lacks is a lab bug. */
export function labFileTrees(lab: Lab, world: World): { node: string; path: string }[] {
  const root = join(lab.dir, LAB_FILES);
  if (!existsSync(root)) return [];
  const nodes = nodeNames(world);
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => {
      if (!nodes.includes(e.name))
        throw new Error(
          `lab ${lab.id}: ${LAB_FILES}/${e.name} names no node of its world (nodes: ${nodes.join(', ')})`,
        );
      return { node: e.name, path: join(root, e.name) };
    });
}

/** The checks of a lab for one learner, judged against the lab's own world. */
export function labChecks(lab: Lab, vars: Vars): Check[] {
  return lab.checks(vars, labWorld(lab, vars));
}

/** The lab's own world for one learner: the canonical world with the lab's overlay for these variables. */
export function labWorld<V extends Vars>(lab: Pick<LabDefinition<V>, 'overlay'>, vars: V): World {
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
  /** How learner-facing text names hurrynet commands (the CLI adds the learner's --instance). */
  learnerText?: (text: string) => string;
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
      result = {
        plan: planFor(world, opts.instance, lab.id),
        seconds: 0,
        leftoversRemoved: 0,
        fromStandby: true,
        seal: await sealInstance(driver, opts.instance),
      };
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
  // The lab's own files first (labs/NN-slug/files/<node>/...), so that its faults can use them.
  const trees = labFileTrees(lab, world);
  if (trees.length) opts.progress?.(`copying the lab's files onto ${trees.map((t) => t.node).join(', ')}`);
  await Promise.all(trees.map((t) => driver.copyDir(containerName(opts.instance, t.node), t.path, '/')));
  const faults = [...lab.faults(vars, world)];
  const task = lab.task?.(vars);
  if (task) {
    const text = Object.entries(task)
      .map(([k, v]) => `${k}: ${opts.learnerText ? opts.learnerText(String(v)) : v}`)
      .join('\n');
    faults.push({
      node: 'alice',
      description: 'task card',
      script: `cat > ${TASK_PATH} <<'HURRYNET_TASK'\n${text}\nHURRYNET_TASK`,
    });
  }
  if (faults.length) opts.progress?.(`putting the world into the state of lab ${lab.id} (${faults.length} changes)...`);
  // A busy machine gets proportionally longer, as for the nodes' own start (up()).
  const faultTimeoutMs = Math.round(30000 * loadScale());
  await Promise.all(
    faults.map(async (f) => {
      const r = await driver.exec(containerName(opts.instance, f.node), ['bash', '-ec', f.script], {
        timeoutMs: faultTimeoutMs,
      });
      if (r.exitCode !== 0)
        throw new Error(
          `could not set up lab ${lab.id} on ${f.node} (${f.description}): ${(r.stderr || r.stdout).trim()}`,
        );
    }),
  );
  // The grader's witnesses, once the world is in the lab's state; one that fails leaves the lab
  // running (its checks say inconclusive), never fails its start.
  const witnesses = lab.witnesses?.(vars, world) ?? [];
  if (witnesses.length) {
    opts.progress?.(`starting the grader's witness on ${witnesses.map((w) => w.node).join(', ')}`);
    await startWitnesses(driver, opts.instance, witnesses, (m) => (opts.progress ? opts.progress(m) : console.warn(m)));
  }
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

/** What runs on the instance: nothing, the free world (no lab) or a lab. Half-made leftovers count as nothing. */
export async function instanceOccupant(
  driver: Driver,
  instance: string,
): Promise<{ running?: RunningLab } | undefined> {
  const containers = (await listInstances(driver)).get(instance) ?? [];
  if (!containers.length || !containers.every((c) => c.state === 'running')) return undefined;
  return { running: await runningLab(driver, instance) };
}

export { ScriptFailedError };

/** Whether a node's container has stopped, allowing Docker a moment to notice an exit. */
export async function nodeStopped(driver: Driver, container: string, waitMs = 2000): Promise<boolean> {
  const until = Date.now() + waitMs;
  for (;;) {
    const state = await driver.inspectState(container);
    if (!state?.running) return true;
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
}

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
  opts: {
    progress?: Progress;
    scriptTimeoutSeconds?: number;
    /** Called with each script's output once it succeeded (lab --apply shows it). */
    onScript?: (node: string, output: string) => void;
  } = {},
): Promise<{ node: string; output: string }[]> {
  for (const t of plan.trees) {
    opts.progress?.(`copying ${t.files.length} files onto ${t.node}`);
    await driver.copyDir(containerName(instance, t.node), t.path, '/');
  }
  if (plan.answers !== undefined) {
    const parsed = parseAnswers(
      plan.answers,
      lab.questions.map((q) => q.key),
    );
    if (!parsed.ok) throw new ScriptFailedError(parsed.error);
    await driver.exec(containerName(instance, 'alice'), ['sh', '-c', `cat > ${ANSWERS_PATH}`], { stdin: plan.answers });
  }
  const limit = opts.scriptTimeoutSeconds ?? (Number(process.env.HURRYNET_SCRIPT_TIMEOUT) || SCRIPT_TIMEOUT_SECONDS);
  const outputs: { node: string; output: string }[] = [];
  for (const s of runOrder(plan.scripts, lab.scriptOrder)) {
    opts.progress?.(`running ${s.node}.sh on ${s.node}`);
    // timeout(1) inside the node kills the whole script, so nothing keeps running after the limit.
    const t0 = Date.now();
    const r = await driver.exec(
      containerName(instance, s.node),
      ['timeout', '-s', 'KILL', String(limit), 'bash', '-s'],
      {
        stdin: s.content,
        timeoutMs: (limit + 10) * 1000,
      },
    );
    const output = (r.stdout + r.stderr).trim();
    if (r.exitCode === 137) {
      // SIGKILL before the limit came from elsewhere: the script stopped its own node, or the node's memory limit.
      const seconds = ((Date.now() - t0) / 1000).toFixed(1);
      if (Date.now() - t0 >= (limit - 1) * 1000)
        throw new ScriptFailedError(`${s.node}.sh did not finish within ${limit} s and was stopped`);
      if (await nodeStopped(driver, containerName(instance, s.node)))
        throw new ScriptFailedError(`${s.node}.sh stopped the node ${s.node} itself after ${seconds} s`);
      throw new ScriptFailedError(
        `${s.node}.sh was killed (SIGKILL) after ${seconds} s, before its ${limit} s limit: most likely it used more memory than the node has`,
      );
    }
    if (r.exitCode !== 0) {
      throw new ScriptFailedError(
        `${s.node}.sh failed with exit code ${r.exitCode}; its last lines:\n${output.split('\n').slice(-8).join('\n').replace(/^/gm, '    ')}`,
      );
    }
    outputs.push({ node: s.node, output });
    opts.onScript?.(s.node, output);
  }
  return outputs;
}

export function validateSubmission(lab: Lab, vars: Vars, dir: string): SubmissionPlan {
  return readSubmission(dir, lab.submissionNodes, nodeNames(labWorld(lab, vars)));
}

/** A check context backed by Docker: probes in sidecars, node commands through exec. */
export function dockerContext(
  driver: Driver,
  instance: string,
  lab: Lab,
  vars: Vars,
  timeScale = 1,
): CheckContext & { close(removeProbes?: boolean): Promise<void> } {
  const sidecars = new Map<string, Promise<Host>>();
  const created: string[] = [];
  const world = labWorld(lab, vars);
  const toEvidence = (
    where: string,
    command: string,
    r: { exitCode: number; stdout: string; stderr: string },
  ): Evidence => ({
    where,
    command,
    exitCode: r.exitCode,
    output: (r.stdout + (r.stderr ? (r.stdout && !r.stdout.endsWith('\n') ? '\n' : '') + r.stderr : '')).slice(
      0,
      20000,
    ),
  });
  const hostFor = (where: string, container: string): Host => ({
    where,
    async run(command: string, timeoutMs = 10000) {
      try {
        const r = await driver.exec(container, ['bash', '-c', command], {
          timeoutMs: Math.round(timeoutMs * timeScale),
        });
        return toEvidence(where, command, r);
      } catch (err) {
        // The grader's own time limit or a Docker error: nothing was learned about the learner's work.
        return graderFailure(where, command, (err as Error).message);
      }
    },
  });
  /** Starts a probe once per key; a failed start is forgotten, so the next attempt tries again. */
  const once = (key: string, start: () => Promise<Host>): Promise<Host> => {
    let host = sidecars.get(key);
    if (!host) {
      host = start();
      sidecars.set(key, host);
      host.catch(() => sidecars.delete(key));
    }
    return host;
  };
  const probeName = (what: string) => `${PROJECT}-${instance}-probe-${what}-${randomBytes(3).toString('hex')}`;
  const probeLabels = (node: string) =>
    Driver.projectLabels({ [LABEL.instance]: instance, [LABEL.kind]: 'probe', [LABEL.node]: node });
  let answers: Promise<Answers> | undefined;
  return {
    instance,
    vars,
    timeScale,
    answers() {
      answers ??= (async (): Promise<Answers> => {
        // An exec that fails (rather than a missing file) is the grader's problem: throw, so the
        // check is inconclusive instead of telling the learner their answers are missing.
        const r = await driver.exec(containerName(instance, 'alice'), ['cat', ANSWERS_PATH], {
          timeoutMs: 10000 * timeScale,
        });
        if (r.exitCode !== 0)
          return {
            ok: false,
            error: `there is no ${ANSWERS_PATH} on alice (write your answers there, or submit an ${ANSWERS})`,
          };
        const parsed = parseAnswers(
          r.stdout,
          lab.questions.map((q) => q.key),
        );
        return parsed.ok
          ? { ok: true, values: parsed.values, raw: r.stdout }
          : { ok: false, error: parsed.error, raw: r.stdout };
      })();
      answers.catch(() => (answers = undefined));
      return answers;
    },
    probe(node: string) {
      return once(`ns:${node}`, async () => {
        const name = probeName(node);
        created.push(name);
        await driver.startSidecar(name, containerName(instance, node), imageSet().base, probeLabels(node));
        return hostFor(`probe@${node}`, name);
      });
    },
    inspect(node: string) {
      return once(`pid:${node}`, async () => {
        const spec = world.nodes.find((n) => n.name === node);
        if (!spec) throw new Error(`no node "${node}" in this world`);
        const target = containerName(instance, node);
        const name = probeName(`inspect-${node}`);
        created.push(name);
        // The node's capabilities exactly: the kernel lets a process reach another's /proc/PID/root
        // only when it holds all of that process's capabilities, and the grader needs no more.
        const caps = nodeCaps(spec).filter((c) => c !== 'NET_ADMIN' && c !== 'NET_RAW');
        const image = await driver.imageOf(target);
        if (!image) throw new Error(`the node ${node} of instance ${instance} is not there`);
        await driver.startSidecar(name, target, image, probeLabels(node), 600, caps, {
          sharePids: true,
        });
        return hostFor(`inspect@${node}`, name);
      });
    },
    fresh(link: string, opts: { gateway?: string } = {}) {
      return once(`link:${link}:${opts.gateway ?? ''}`, async () => {
        const seat = freshSeat(world, link, opts.gateway);
        const member = world.nodes.find((n) => n.interfaces.some((i) => i.link === link));
        if (!member) throw new Error(`no node of this world is on link "${link}"`);
        const network = await driver.networkOfLink(containerName(instance, member.name), link);
        if (!network) throw new Error(`the Docker network of link "${link}" was not found`);
        const name = probeName(`fresh-${link}`);
        created.push(name);
        await driver.startAttached(name, network, imageSet().base, probeLabels(`fresh-${link}`));
        const host = hostFor(`fresh@${link}`, name);
        // The Docker interface is the only one; it gets the seat's story address and routes.
        const setup = await host.run(
          [
            // A container on one network has exactly one interface besides lo: eth0.
            'iptables -t nat -F 2>/dev/null || true',
            'ip -4 addr flush dev eth0',
            `ip addr add ${seat.cidr} dev eth0`,
            ...(seat.gateway ? [`ip route add default via ${seat.gateway} dev eth0`] : []),
            `echo 'nameserver ${seat.nameserver}' > /etc/resolv.conf`,
            "echo '127.0.0.1 localhost' > /etc/hosts",
          ].join(' && '),
          10000,
        );
        if (setup.exitCode !== 0)
          throw new Error(`the grader's fresh machine on ${link} could not be set up: ${setup.output.trim()}`);
        return host;
      });
    },
    node(node: string) {
      return hostFor(node, containerName(instance, node));
    },
    trace(probe: () => Promise<unknown>) {
      return traceProbe(driver, instance, probe);
    },
    async witness(node: string): Promise<Witness | undefined> {
      // A Docker error looking for it counts as no witness: the check is inconclusive either way.
      const name = await findWitness(driver, instance, node).catch(() => undefined);
      if (!name) return undefined;
      const host = hostFor(`witness@${node}`, name);
      return { ...host, pcap: () => readWitness(driver, name, Math.round(30000 * timeScale)) };
    },
    async close(removeProbes = true) {
      // Every probe start settles first, so that none is created after its world's removal began.
      await Promise.allSettled([...sidecars.values()]);
      if (removeProbes) await Promise.all(created.map((n) => driver.removeContainer(n)));
    },
  };
}

/**
 * Grades the live instance against its lab's checks. `leaveProbes` is for a world about to be removed
 * as a whole (a batch's): its probe containers carry the instance's labels and go with it, off the
 * critical path, instead of being removed one by one here.
 */
export async function checkLab(
  driver: Driver,
  instance: string,
  running: RunningLab,
  opts: { leaveProbes?: boolean; hintLevel?: number; onResult?: (result: CheckResult) => void } = {},
): Promise<Report> {
  const { lab, seed, vars } = running;
  const timeScale = await measureTimeScale(driver, containerName(instance, 'alice'));
  const ctx = dockerContext(driver, instance, lab, vars, timeScale);
  try {
    return await runChecks(
      lab.checks(vars, labWorld(lab, vars)),
      ctx,
      { lab: lab.id, title: lab.title, instance, seed, timeScale, hintLevel: opts.hintLevel },
      realClock,
      { onResult: opts.onResult },
    );
  } finally {
    await ctx.close(!opts.leaveProbes);
  }
}
