// The JSON routes of the browser page: a thin shell over the modules the CLI uses (engine, labs,
// checks, journey). Nothing here starts a world or grades one in a way of its own: `lab N` and the
// page both call startLab, `check` and the page both call checkLab, so the same instance works
// from both at once. Long operations answer as NDJSON (one StreamEvent per line) so that the page
// shows progress and each check as it finishes.
import express, { type Request, type Response, type Router } from 'express';
import { randomBytes } from 'node:crypto';
import { marked } from 'marked';
import { MAX_HINT_LEVEL, type CheckResult, type Report } from '../../checks/types.js';
import { DEFAULT_LIMITS } from '../journey/capture.js';
import { journeyDocument, type JourneyDoc } from '../journey/document.js';
import { findPreset, PRESETS } from '../journey/presets.js';
import { runJourney } from '../journey/run.js';
import { renderHtml } from '../journey/views/html.js';
import {
  decideStart,
  hasUnsavedAnswers,
  labName,
  readAnswersState,
  readReport,
  recordChecked,
  recordReport,
  unsavedSentence,
} from '../labs/courseflow.js';
import { findLab, loadLabs, varsFor, type Lab } from '../labs/lab.js';
import {
  checkLab,
  instanceOccupant,
  labChecks,
  labWorld,
  nextLab,
  runningLab,
  startLab,
  userSeed,
  type RunningLab,
} from '../labs/labrun.js';
import { DockerUnavailableError, InstanceExistsError, UsageError } from '../errors.js';
import type { Driver } from '../runtime/driver.js';
import { nodeContainer, status, stop } from '../runtime/engine.js';
import { validateInstanceName } from '../runtime/plan.js';
import { ensureStandbyInBackground, isStandbyName, standbyEnabled } from '../runtime/standby.js';
import { graphSvg } from '../world/graph.js';
import { canonicalWorld } from '../world/world.js';
import { withLearnerFlags } from '../cli/options.js';
import type {
  CheckInfo,
  CheckSummary,
  HandoutView,
  HintView,
  InstanceView,
  JourneyView,
  LabSummary,
  LastReport,
  NatChange,
  SessionView,
  StreamEvent,
  WorldView,
} from './protocol.js';

export interface ApiDeps {
  driver: Driver;
  /** The engine that holds an instance's world (a class on several engines); default: driver. */
  driverFor?: (instance: string) => Driver;
  /** The instance the server was started for. */
  instance: string;
  /**
   * Who asks, per request (the classroom server: from the session). A bound scope's instance is the
   * only one its routes act on: a request naming another one is a 403, whatever the page sends.
   */
  scope?: (req: Request) => Scope;
  /** Before a world starts: throws (an HttpError) to refuse or queue it (admission control). */
  beforeStart?: (scope: Scope, lab: Lab) => void;
  /** After a world was removed by the stop route. */
  afterStop?: (scope: Scope) => void;
  /** After each check run, with the report as the learner saw it (the classroom keeps history). */
  onReport?: (scope: Scope, report: Report) => void;
  /** Standby worlds (default: unless HURRYNET_STANDBY=0); a class turns them off, they would take its room. */
  standby?: boolean;
  /** What each instance is busy with, shared with other routes that act on instances (the teacher's reset). */
  busy?: Map<string, string>;
}

export interface Scope {
  instance: string;
  /** The instance is the session's: no request may name another. */
  bound: boolean;
  /** The lab variation to start (default: the running world's, else this user's). */
  seed?: string;
  /** The labs this scope may start or read (default: all). */
  labs?: readonly string[];
  /** For the page to show first (SessionView.notice). */
  notice?: string;
}

/** A request the server refuses, with its HTTP status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The HTTP status of an error: the user's mistakes are 4xx, the engine's trouble 503. */
export function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  const http = (err as { status?: unknown; statusCode?: unknown } | undefined)?.status;
  if (typeof http === 'number' && http >= 400 && http < 600) return http;
  if (err instanceof InstanceExistsError) return 409;
  if (err instanceof UsageError) return 400;
  if (err instanceof DockerUnavailableError) return 503;
  return 500;
}

/** An instance name from a request: the server's own by default; a malformed or standby name is a 400. */
export function instanceParam(value: unknown, fallback: string): string {
  if (value === undefined || value === '') return fallback;
  if (typeof value !== 'string') throw new HttpError(400, 'instance must be a name');
  try {
    validateInstanceName(value);
  } catch (err) {
    throw new HttpError(400, (err as Error).message);
  }
  if (isStandbyName(value)) throw new HttpError(400, `"${value}" is a standby world's name, not an instance`);
  return value;
}

/** A node name's form (whether the world has it is checked against the running world). */
export function nodeParam(value: unknown): string {
  if (typeof value !== 'string' || !/^[a-z][a-z0-9-]{0,31}$/.test(value))
    throw new HttpError(400, 'node must be a node name such as alice or home');
  return value;
}

export function labSummary(lab: Lab): LabSummary {
  return {
    number: lab.number,
    id: lab.id,
    slug: lab.slug,
    title: lab.title,
    topics: lab.topics,
    minutes: lab.minutes,
  };
}

function checkInfos(lab: Lab, vars: RunningLab['vars']): CheckInfo[] {
  return labChecks(lab, vars).map((c) => ({
    id: c.id,
    title: c.title,
    points: c.points,
    required: c.required ?? true,
  }));
}

function summaryOf(r: Report): CheckSummary {
  return {
    lab: r.lab,
    score: r.score,
    maxScore: r.maxScore,
    passed: r.passed,
    inconclusive: r.inconclusive,
    ms: r.ms,
    startedAt: r.startedAt,
  };
}

const NAT_WHY = new Set(['snat', 'dnat', 'reverse nat', 'nat helper']);

/** What the NATs on the way changed, each distinct rewrite once with the number of packets it touched. */
export function natChanges(doc: JourneyDoc): NatChange[] {
  const seen = new Map<string, NatChange>();
  for (const p of doc.packets)
    for (const c of p.changes) {
      if (!NAT_WHY.has(c.why)) continue;
      const key = [c.node, c.field, c.from, c.to, c.why].join('|');
      const known = seen.get(key);
      if (known) known.packets++;
      else seen.set(key, { node: c.node, field: c.field, from: c.from, to: c.to, why: c.why, packets: 1 });
    }
  return [...seen.values()];
}

function journeyView(id: string, doc: JourneyDoc, stdout: string, stderr: string): JourneyView {
  const byId = new Map(doc.packets.map((p) => [p.id, p]));
  return {
    id,
    command: doc.command,
    exitCode: doc.exitCode,
    timedOut: doc.timedOut,
    stdout: stdout.slice(0, 20000),
    stderr: stderr.slice(0, 20000),
    packets: doc.packets.length,
    flows: doc.flows.length,
    paths: doc.flows.map((f) => {
      const first = byId.get(f.packets[0] ?? -1);
      return `${f.protocol.toUpperCase()}${f.app ? ` ${f.app.toUpperCase()}` : ''} ${f.client.ip}:${f.client.port} → ${f.server.ip}:${f.server.port}: ${(first?.path ?? []).join(' → ')}`;
    }),
    nat: natChanges(doc),
    warnings: doc.warnings,
    htmlUrl: `/api/journey/${id}`,
  };
}

/** Starts an NDJSON answer; the returned function sends one event (quietly, once the page has gone). */
function ndjson(res: Response): (event: StreamEvent) => void {
  res.status(200);
  res.setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.flushHeaders();
  return (event) => {
    if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify(event)}\n`);
  };
}

/** A string array from a body, bounded: journey arguments and commands. */
function words(value: unknown, what: string, max: number): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > max || value.some((w) => typeof w !== 'string' || w.length > 500))
    throw new HttpError(400, `${what} must be a list of at most ${max} words`);
  return value as string[];
}

/** How long an instance's status is reused (the page polls every 10 s). */
const STATUS_MAX_AGE_MS = 2000;

export interface Api {
  router: Router;
  /**
   * Loads what the page asks for first (the labs, the instance's status), so that it opens quickly;
   * resolves once that is done (or failed: the page's own requests then say why).
   */
  warm(): Promise<void>;
}

export function createApi(deps: ApiDeps): Api {
  // Asked at each use: a class places a learner's world on its engine just before it starts.
  const driverOf = (instance: string): Driver => deps.driverFor?.(instance) ?? deps.driver;
  const api = express.Router();
  /** What each instance is busy with: one start, stop, check or journey at a time. */
  const busy = deps.busy ?? new Map<string, string>();
  /** Journeys' HTML views, the newest few. */
  const journeys = new Map<string, string>();
  const statusCache = new Map<string, { at: number; view: Promise<Omit<InstanceView, 'busy'>> }>();
  const forget = (instance: string) => void statusCache.delete(instance);

  const scopeOf = (req: Request): Scope => deps.scope?.(req) ?? { instance: deps.instance, bound: false };
  const instanceOf = (req: Request): string => {
    const fromBody = (req.body as Record<string, unknown> | undefined)?.instance;
    const scope = scopeOf(req);
    const asked = instanceParam(req.query.instance ?? fromBody, scope.instance);
    if (scope.bound && asked !== scope.instance)
      throw new HttpError(403, `this session may act only on its own instance, ${scope.instance}`);
    return asked;
  };
  /** A lab the scope may use (403 for one the class has not opened). */
  const openLab = (req: Request, lab: Lab): Lab => {
    const labs = scopeOf(req).labs;
    if (labs && !labs.includes(lab.id)) throw new HttpError(403, `lab ${lab.id} is not open to you`);
    return lab;
  };
  const flagsText = (instance: string) => (text: string) => withLearnerFlags(text, { instance });
  const withFlags = (instance: string, r: CheckResult): CheckResult =>
    r.hints ? { ...r, hints: r.hints.map(flagsText(instance)) } : r;

  async function exclusive<T>(instance: string, what: string, fn: () => Promise<T>): Promise<T> {
    const doing = busy.get(instance);
    if (doing) throw new HttpError(409, `instance ${instance} is busy (${doing}); try again when it is done`);
    busy.set(instance, what);
    forget(instance);
    try {
      return await fn();
    } finally {
      busy.delete(instance);
      forget(instance);
    }
  }

  async function requireLab(instance: string): Promise<RunningLab> {
    const running = await runningLab(driverOf(instance), instance);
    if (!running) throw new HttpError(400, `no lab is running in instance "${instance}": start one from the list`);
    return running;
  }

  api.get('/session', (req, res) => {
    const scope = scopeOf(req);
    const view: SessionView = {
      instance: scope.instance,
      presets: PRESETS.map((p) => ({ name: p.name, usage: p.usage, description: p.description })),
      ...(scope.notice ? { notice: scope.notice } : {}),
    };
    res.json(view);
  });

  api.get('/labs', async (req, res) => {
    const open = scopeOf(req).labs;
    res.json((await loadLabs()).filter((l) => !open || open.includes(l.id)).map(labSummary));
  });

  /**
   * An instance's status takes an exec on every node (about 0.3 s on 2 cores): one at a time per
   * instance, and kept for a moment, so that a page's first look and its polling stay cheap.
   */
  function instanceView(instance: string): Promise<Omit<InstanceView, 'busy'>> {
    const cached = statusCache.get(instance);
    if (cached && Date.now() - cached.at < STATUS_MAX_AGE_MS) return cached.view;
    const view = (async () => {
      const driver = driverOf(instance);
      const [list, running] = await Promise.all([status(driver, instance), runningLab(driver, instance)]);
      const found = list[0];
      return {
        instance,
        empty: !found,
        lab: running ? { ...labSummary(running.lab), seed: running.seed } : null,
        healthy: !!found?.healthy,
        nodes:
          found?.nodes.map((n) => ({ node: n.node, state: n.state, ready: n.ready, addresses: n.addresses })) ?? [],
      };
    })();
    statusCache.set(instance, { at: Date.now(), view });
    view.catch(() => forget(instance));
    return view;
  }

  api.get('/instance', async (req, res) => {
    const instance = instanceOf(req);
    const doing = busy.get(instance);
    // While the server changes the world, what it was a moment ago is not worth showing.
    if (doing) forget(instance);
    const view: InstanceView = { ...(await instanceView(instance)), ...(doing ? { busy: doing } : {}) };
    res.json(view);
  });

  /** Whether a terminal can open on a node: the page asks when a WebSocket was refused, to say why. */
  api.get('/node', async (req, res) => {
    const instance = instanceOf(req);
    const node = nodeParam(req.query.node);
    await nodeContainer(driverOf(instance), instance, node);
    res.json({ instance, node });
  });

  api.get('/world', async (req, res) => {
    const instance = instanceOf(req);
    const running = await runningLab(driverOf(instance), instance);
    const world = running ? labWorld(running.lab, running.vars) : canonicalWorld;
    const view: WorldView = {
      lab: running?.lab.id ?? null,
      svg: graphSvg(world, { marked: true }),
      nodes: world.nodes.map((n) => n.name),
    };
    res.json(view);
  });

  api.get('/handout', async (req, res) => {
    const instance = instanceOf(req);
    let lab: Lab;
    let vars: RunningLab['vars'];
    if (req.query.lab !== undefined) {
      if (typeof req.query.lab !== 'string' || !/^[a-z0-9-]{1,40}$/.test(req.query.lab))
        throw new HttpError(400, 'lab must be a lab number or name');
      lab = openLab(req, await findLab(req.query.lab));
      const running = await runningLab(driverOf(instance), instance);
      vars = running?.lab.id === lab.id ? running.vars : varsFor(lab, scopeOf(req).seed ?? running?.seed ?? userSeed());
    } else {
      ({ lab, vars } = await requireLab(instance));
    }
    const task = lab.task?.(vars);
    const view: HandoutView = {
      lab: labSummary(lab),
      goal: lab.goal,
      html: await marked.parse(flagsText(instance)(lab.readme)),
      task: task ? Object.fromEntries(Object.entries(task).map(([k, v]) => [k, flagsText(instance)(v)])) : null,
    };
    res.json(view);
  });

  /** Starts (or restarts) a lab as `lab N` does: asks before losing answers no check has seen. */
  async function start(
    res: Response,
    scope: Scope,
    instance: string,
    lab: Lab,
    opts: { reset: boolean; force: boolean },
  ) {
    return exclusive(instance, `starting lab ${lab.id}`, async () => {
      deps.beforeStart?.(scope, lab);
      // After beforeStart: a class places a new world on its engine there.
      const driver = driverOf(instance);
      const current = await instanceOccupant(driver, instance);
      const running = current?.running;
      const seed = scope.seed ?? running?.seed ?? userSeed();
      const state = current ? await readAnswersState(driver, instance) : {};
      const decision = decideStart({
        running: current && { lab: running?.lab.id, seed: running?.seed },
        wanted: { lab: lab.id },
        reset: opts.reset,
        yes: opts.force,
        tty: false,
        unsaved: hasUnsavedAnswers(state.answers, state.checked),
      });
      if (decision === 'refuse' || decision === 'ask')
        throw new HttpError(
          409,
          `${unsavedSentence(labName(running?.lab), instance)}; starting ${labName(lab)} removes them`,
          { confirm: true },
        );
      const send = ndjson(res);
      try {
        if (decision === 'same') {
          send({ type: 'started', lab: lab.id, seconds: 0, fromStandby: false, already: true });
          return;
        }
        send({
          type: 'progress',
          message: current
            ? `replacing ${labName(running?.lab)} with ${labName(lab)} on instance ${instance}`
            : `starting ${labName(lab)} on instance ${instance}`,
        });
        const standby = deps.standby ?? standbyEnabled();
        const started = await startLab(driver, lab, {
          instance,
          seed,
          replace: decision === 'replace',
          progress: (message) => send({ type: 'progress', message }),
          standby,
          learnerText: flagsText(instance),
        });
        if (started.seal && !started.seal.sealed)
          send({
            type: 'progress',
            message: `warning: the host is not sealed from this lab's bridges (${started.seal.reason ?? 'unknown reason'}); see docs/seal.md`,
          });
        if (standby) {
          const next = await nextLab(lab);
          ensureStandbyInBackground(next ? { lab: next.id, seed } : undefined);
        }
        send({
          type: 'started',
          lab: lab.id,
          seconds: started.seconds,
          fromStandby: !!started.fromStandby,
          already: false,
        });
      } catch (err) {
        send({ type: 'error', message: (err as Error).message });
      } finally {
        res.end();
      }
    });
  }

  api.post('/start', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const instance = instanceOf(req);
    const query = typeof body.lab === 'number' ? String(body.lab) : body.lab;
    if (typeof query !== 'string' || !/^[a-z0-9-]{1,40}$/.test(query))
      throw new HttpError(400, 'lab must be a lab number or name, such as 1 or dns');
    const lab = openLab(req, await findLab(query));
    await start(res, scopeOf(req), instance, lab, { reset: body.reset === true, force: body.force === true });
  });

  api.post('/reset', async (req, res) => {
    const instance = instanceOf(req);
    const { lab } = await requireLab(instance);
    await start(res, scopeOf(req), instance, openLab(req, lab), { reset: true, force: true });
  });

  api.post('/stop', async (req, res) => {
    const instance = instanceOf(req);
    const r = await exclusive(instance, 'stopping', async () => {
      const driver = driverOf(instance);
      const ran =
        (deps.standby ?? standbyEnabled()) ? await runningLab(driver, instance).catch(() => undefined) : undefined;
      const stopped = await stop(driver, instance);
      if (stopped.containers || stopped.networks) {
        const next = ran ? await nextLab(ran.lab) : undefined;
        ensureStandbyInBackground(next ? { lab: next.id, seed: ran?.seed ?? '' } : undefined);
      }
      return stopped;
    });
    deps.afterStop?.(scopeOf(req));
    res.json(r);
  });

  api.post('/check', async (req, res) => {
    const instance = instanceOf(req);
    const running = await requireLab(instance);
    openLab(req, running.lab);
    await exclusive(instance, `checking lab ${running.lab.id}`, async () => {
      const send = ndjson(res);
      const driver = driverOf(instance);
      try {
        const { answers } = await readAnswersState(driver, instance);
        send({ type: 'checks', checks: checkInfos(running.lab, running.vars) });
        const report = await checkLab(driver, instance, running, {
          onResult: (result) => send({ type: 'result', result: withFlags(instance, result) }),
        });
        await recordChecked(driver, instance, answers);
        const shown = { ...report, results: report.results.map((r) => withFlags(instance, r)) };
        await recordReport(driver, instance, shown);
        deps.onReport?.(scopeOf(req), shown);
        send({ type: 'checked', summary: summaryOf(report) });
      } catch (err) {
        send({ type: 'error', message: (err as Error).message });
      } finally {
        res.end();
      }
    });
  });

  api.get('/report', async (req, res) => {
    const instance = instanceOf(req);
    const driver = driverOf(instance);
    const running = await runningLab(driver, instance);
    const report = running ? await readReport(driver, instance) : undefined;
    // A report of another lab (the world was replaced since) is not this lab's.
    if (!running || !report || report.lab !== running.lab.id) return void res.json(null);
    const view: LastReport = {
      summary: summaryOf(report),
      checks: checkInfos(running.lab, running.vars),
      results: report.results,
    };
    res.json(view);
  });

  api.get('/hint', async (req, res) => {
    const instance = instanceOf(req);
    const { lab, vars } = await requireLab(instance);
    const level = Number(req.query.level);
    if (!Number.isInteger(level) || level < 1 || level > MAX_HINT_LEVEL)
      throw new HttpError(400, `level must be a whole number from 1 to ${MAX_HINT_LEVEL}`);
    const check = labChecks(lab, vars).find((c) => c.id === req.query.check);
    if (!check) throw new HttpError(400, `lab ${lab.id} has no check "${String(req.query.check ?? '')}"`);
    const view: HintView = {
      check: check.id,
      level,
      maxLevel: check.hint.length,
      hints: check.hint.slice(0, level).map(flagsText(instance)),
    };
    res.json(view);
  });

  api.post('/journey', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const instance = instanceOf(req);
    let command: string[];
    if (body.preset !== undefined) {
      const preset = typeof body.preset === 'string' ? findPreset(body.preset) : undefined;
      if (!preset) throw new HttpError(400, `preset must be one of ${PRESETS.map((p) => p.name).join(', ')}`);
      command = preset.command(words(body.args, 'args', 8), { active: body.active === true });
    } else {
      command = words(body.command, 'command', 64);
      if (!command.length) throw new HttpError(400, 'give a preset or a command to follow');
    }
    // The instance and its alice must run before anything streams (a 400, not an error event).
    const driver = driverOf(instance);
    await nodeContainer(driver, instance, 'alice');
    await exclusive(instance, 'following a journey', async () => {
      const send = ndjson(res);
      try {
        const run = await runJourney(driver, {
          instance,
          from: 'alice',
          command,
          timeoutMs: 30000,
          limits: { ...DEFAULT_LIMITS, maxSeconds: 90 },
          onProgress: (message) => send({ type: 'progress', message }),
        });
        const doc = journeyDocument(run);
        const id = randomBytes(8).toString('hex');
        journeys.set(id, renderHtml(doc));
        for (const old of [...journeys.keys()].slice(0, -10)) journeys.delete(old);
        send({ type: 'journey', journey: journeyView(id, doc, run.stdout, run.stderr) });
        await run.removed;
      } catch (err) {
        send({ type: 'error', message: (err as Error).message });
      } finally {
        res.end();
      }
    });
  });

  api.get('/journey/:id', (req, res) => {
    const html = journeys.get(req.params.id);
    if (!html) throw new HttpError(404, 'no such journey (the server keeps the last 10)');
    // The journey's page is self-contained with inline styles and no scripts: its own policy.
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox",
    );
    res.type('html').send(html);
  });

  return {
    router: api,
    async warm() {
      await Promise.allSettled([loadLabs(), instanceView(deps.instance)]);
    },
  };
}
