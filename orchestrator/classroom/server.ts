// The class server: one process for a whole class. A learner signs in with their link and gets the
// browser page of their own instance (class-<id>), bound to it by their session: the ui server's
// app, api and terminals with a scope and hooks, never a second way of starting or grading. The
// teacher signs in with theirs and gets /teacher: the live table, resets, exports, the audit log.
// Worlds start only when an engine has room (admission.ts); a queued learner's world starts by
// itself when another stops. A class may use several engines: each learner's world is placed once
// on the least loaded (placement.ts), and everything for it goes there (driverFor).
import express, { type NextFunction, type Request, type Response } from 'express';
import { existsSync } from 'node:fs';
import { createServer as createHttp, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Report } from '../../checks/types.js';
import { findLab, varsFor, type Lab } from '../labs/lab.js';
import { labChecks, runningLab, startLab } from '../labs/labrun.js';
import { listInstances, stop } from '../runtime/engine.js';
import type { Driver } from '../runtime/driver.js';
import { HttpError, type Scope } from '../ui/api.js';
import type { LiveTerminalView } from '../ui/protocol.js';
import { createApp, PageNotBuiltError, pageWithNonce, staticDir } from '../ui/server.js';
import { attachTerminals } from '../ui/terminal.js';
import { TerminalRegistry } from '../ui/terminal-watch.js';
import {
  DEFAULT_WORLD_COST,
  EMPTY,
  positionOf,
  release,
  request,
  type AdmissionState,
  type Budget,
  type Cost,
} from './admission.js';
import { INSTANCE_PREFIX, instanceOf, learnerSeed, TEACHER_ID, type ClassSpec } from './class-file.js';
import { classResults, EXPORT_FORMATS, renderExport, type ExportFormat } from './export.js';
import { place, type Room } from './placement.js';
import { createClassAuth, type ClassAuth } from './session.js';
import type { Principal, Store } from './store.js';
import type { ClassEvent, TableRow, TableView } from './protocol.js';

/** The instance of the teacher's own world (to try a lab before the class does). */
export const TEACHER_INSTANCE = instanceOf(TEACHER_ID);

/** One Docker engine of the class, with the room its learners' worlds may take. */
export interface ClassEngine {
  /** As the teacher named it (--engines): the table shows it, the store keeps it. */
  name: string;
  driver: Driver;
  budget: Budget;
}

export interface ClassServerOptions {
  /** The engine of a class on one engine, and of the teacher's own world. */
  driver: Driver;
  spec: ClassSpec;
  store: Store;
  host: string;
  port: number;
  /** Serve https directly. */
  tls?: { cert: Buffer; key: Buffer };
  /** A reverse proxy terminates TLS and checks Host (docs/classroom.md). */
  behindProxy?: boolean;
  budget: Budget;
  /** Several engines (the first also holds the teacher's world); default: driver with budget. */
  engines?: ClassEngine[];
  cost?: Cost;
  pageDir?: string;
  /** For the log lines of background work (a queued world started, a reset). */
  log?: (line: string) => void;
  /**
   * A learner world nobody has looked at for this long is stopped, and started again (in its lab's
   * starting state) at its learner's next visit; 0: never. Default 45 minutes.
   */
  idleMs?: number;
  /** How often idle worlds are looked for (default: a minute). */
  sweepMs?: number;
}

export interface ClassServer {
  origin: string;
  port: number;
  server: Server;
  /** Admission's state now over all engines (running worlds and the lines), for status and tests. */
  admission(): AdmissionState;
  /** The engine that holds (or will hold) an instance's world, once placed. */
  engineOf(instance: string): string | undefined;
  close(): Promise<void>;
}

/** The newest time each learner's best score went up, from their runs in order. */
export function lastProgress(runs: { score: number; at: string }[]): string | undefined {
  let best = -1;
  let at: string | undefined;
  for (const r of [...runs].sort((a, b) => a.at.localeCompare(b.at)))
    if (r.score > best) {
      best = r.score;
      at = r.at;
    }
  return at;
}

export async function startClassServer(opts: ClassServerOptions): Promise<ClassServer> {
  const { spec, store } = opts;
  const engines: ClassEngine[] = opts.engines?.length
    ? opts.engines
    : [{ name: opts.driver.endpoint ?? 'local', driver: opts.driver, budget: opts.budget }];
  const first = engines[0] as ClassEngine;
  const byName = new Map(engines.map((e) => [e.name, e]));
  const log = opts.log ?? (() => undefined);
  const cost = opts.cost ?? DEFAULT_WORLD_COST;
  const pageDir = opts.pageDir ?? staticDir();
  for (const f of ['index.html', 'main.js', 'teacher.html', 'teacher.js'])
    if (!existsSync(join(pageDir, f)))
      throw new PageNotBuiltError(`the browser pages are not built (${pageDir} has no ${f}): run "npm run build:ui"`);
  let port = opts.port;
  const auth: ClassAuth = createClassAuth({
    store,
    bound: () => ({ host: opts.host, port }),
    secure: !!opts.tls || !!opts.behindProxy,
    behindProxy: !!opts.behindProxy,
  });

  const learnerIdOfInstance = (instance: string) =>
    instance.startsWith(INSTANCE_PREFIX) ? instance.slice(INSTANCE_PREFIX.length) : undefined;

  /** Each engine's room: its running worlds and its line. */
  const rooms = new Map<string, AdmissionState>(engines.map((e) => [e.name, EMPTY]));
  /** Where each placed instance's world lives (the store keeps it for learners). */
  const placedAt = new Map<string, string>();
  const roomList = (): Room[] =>
    engines.map((e) => ({ engine: e.name, budget: e.budget, state: rooms.get(e.name) ?? EMPTY }));
  const roomOf = (engine: string) => rooms.get(engine) ?? EMPTY;
  const engineOf = (instance: string): string | undefined => {
    const known = placedAt.get(instance);
    if (known) return known;
    const id = learnerIdOfInstance(instance);
    const stored = id ? store.learner(id)?.engine : undefined;
    if (!stored || !byName.has(stored)) return undefined;
    placedAt.set(instance, stored);
    return stored;
  };
  const placeAt = (instance: string, engine: string) => {
    placedAt.set(instance, engine);
    const id = learnerIdOfInstance(instance);
    const learner = id ? store.learner(id) : undefined;
    if (learner && learner.engine !== engine) store.placeLearner(learner.id, engine);
  };
  /** Places a world that has no engine yet on the least loaded one; a placed world stays. */
  const placeWorld = (instance: string): string => {
    const engine = place(roomList(), cost, engineOf(instance));
    placeAt(instance, engine);
    return engine;
  };
  const driverFor = (instance: string): Driver =>
    instance === TEACHER_INSTANCE ? first.driver : (byName.get(engineOf(instance) ?? '')?.driver ?? first.driver);

  // Worlds already running (a restarted server) hold their room, on the engine that has them.
  for (const e of engines)
    for (const instance of (await listInstances(e.driver)).keys())
      if (instance.startsWith(INSTANCE_PREFIX) && instance !== TEACHER_INSTANCE) {
        const room = roomOf(e.name);
        rooms.set(e.name, { ...room, running: new Map(room.running).set(instance, cost) });
        placeAt(instance, e.name);
      }
  /** Every engine's room as one (the union of the worlds, the lines one after another). */
  const merged = (): AdmissionState => ({
    running: new Map(engines.flatMap((e) => [...roomOf(e.name).running])),
    queue: engines.flatMap((e) => roomOf(e.name).queue),
  });
  /** What each queued learner asked for, to start it when its turn comes. */
  const waiting = new Map<string, { lab: Lab; seed: string }>();
  const busy = new Map<string, string>();
  const listeners = new Set<Response>();
  /** Queued worlds starting: a closing server waits for them (they write to the store). */
  const background = new Set<Promise<void>>();

  /** When each learner instance was last asked for (the page asks every few seconds while it is open). */
  const lastSeen = new Map<string, number>();
  /** Worlds stopped while idle: the lab to start again at the learner's next visit. */
  const idled = new Map<string, { lab: Lab; seed: string }>();
  /** What the page says first, per instance, for a while after its world was started again. */
  const notices = new Map<string, { text: string; until: number }>();
  const idleMs = opts.idleMs ?? 45 * 60_000;

  const learnerOf = (p: Principal | undefined) => (p?.learnerId ? store.learner(p.learnerId) : undefined);
  const scope = (req: IncomingMessage): Scope => {
    const p = auth.principal(req);
    const learner = learnerOf(p);
    if (learner) {
      const instance = instanceOf(learner.id);
      lastSeen.set(instance, Date.now());
      if (idled.has(instance)) wake(instance);
      const notice = notices.get(instance);
      if (notice && notice.until < Date.now()) notices.delete(instance);
      return {
        instance,
        bound: true,
        seed: learnerSeed(learner),
        labs: spec.labs,
        ...(notice ? { notice: notice.text } : {}),
      };
    }
    // The teacher: their own world by default, and any learner's (to help, after a confirmation).
    if (p?.role === 'teacher') return { instance: TEACHER_INSTANCE, bound: false, seed: 'teacher' };
    throw new HttpError(401, 'not signed in');
  };
  const broadcast = (e: ClassEvent) => {
    for (const res of listeners) res.write(`data: ${JSON.stringify(e)}\n\n`);
  };

  /** The learners' live terminals, for the teacher to watch read-only (a terminal opening or ending reloads the table). */
  const terminals = new TerminalRegistry({
    onChange: (t) => broadcast({ type: 'terminals', instance: t.instance }),
  });
  /** The terminals a learner opened themselves (not the teacher's, opened there to help). */
  const learnerTerminals = (instance: string) => terminals.list(instance).filter((t) => t.bound);

  /** A learner is back: their idle world starts again (through admission, like any start). */
  const wake = (instance: string) => {
    const asked = idled.get(instance);
    if (!asked || busy.has(instance)) return;
    idled.delete(instance);
    notices.set(instance, {
      text: `Your world was stopped after ${idleMs >= 60_000 ? `${Math.round(idleMs / 60_000)} minutes` : `${Math.round(idleMs / 1000)} seconds`} without a visit, and lab ${asked.lab.id} is starting again in its starting state: what you changed in it is gone, your check history is kept.`,
      until: Date.now() + 5 * 60_000,
    });
    // In line like any start: admitNext starts it now when there is room, else when there is.
    waiting.set(instance, asked);
    const engine = placeWorld(instance);
    const room = roomOf(engine);
    if (!room.queue.includes(instance)) rooms.set(engine, { ...room, queue: [...room.queue, instance] });
    admitNext(engine);
  };

  /** Stops the worlds whose learners have not been seen for idleMs. */
  const sweep = async () => {
    const now = Date.now();
    for (const [instance, engine] of engines.flatMap((e) =>
      [...roomOf(e.name).running.keys()].map((i) => [i, e] as const),
    )) {
      if (busy.has(instance) || now - (lastSeen.get(instance) ?? startedAt) < idleMs) continue;
      busy.set(instance, 'stopping an idle world');
      try {
        const running = await runningLab(engine.driver, instance);
        await stop(engine.driver, instance);
        rooms.set(engine.name, release(roomOf(engine.name), instance));
        if (running) idled.set(instance, { lab: running.lab, seed: running.seed });
        store.audit('server', 'stopped an idle world', `${instance}${running ? ` lab ${running.lab.id}` : ''}`);
        log(`stopped the idle world ${instance}`);
        broadcast({ type: 'world', instance, state: 'stopped' });
      } catch (err) {
        log(`the idle world ${instance} could not be stopped: ${(err as Error).message}`);
      } finally {
        busy.delete(instance);
      }
    }
    for (const e of engines) admitNext(e.name);
  };
  const startedAt = Date.now();
  let sweeping: Promise<void> | undefined;
  const sweeper =
    idleMs > 0
      ? setInterval(() => {
          sweeping ??= sweep().finally(() => (sweeping = undefined));
        }, opts.sweepMs ?? 60_000)
      : undefined;
  sweeper?.unref();

  /** Starts the first world in an engine's line if it has room now (in the background; its page sees it at the next look). */
  const admitNext = (name: string) => {
    const engine = byName.get(name);
    const next = roomOf(name).queue[0];
    if (!engine || !next) return;
    const asked = waiting.get(next);
    const r = request(roomOf(name), engine.budget, next, cost);
    if (!r.decision.admitted) return;
    rooms.set(name, r.state);
    waiting.delete(next);
    if (!asked) return admitNext(name);
    busy.set(next, `starting lab ${asked.lab.id}`);
    log(`admitted ${next}: starting lab ${asked.lab.id}`);
    broadcast({ type: 'world', instance: next, state: 'starting' });
    const started = startLab(engine.driver, asked.lab, {
      instance: next,
      seed: asked.seed,
      replace: true,
      standby: false,
    })
      .then(
        () => {
          store.audit('server', 'started a queued world', `${next} lab ${asked.lab.id}`);
          broadcast({ type: 'world', instance: next, state: 'running' });
        },
        (err: unknown) => {
          log(`the queued world ${next} did not start on ${name}: ${(err as Error).message}`);
          rooms.set(name, release(roomOf(name), next));
          admitNext(name);
        },
      )
      .finally(() => {
        busy.delete(next);
        background.delete(started);
      });
    background.add(started);
  };

  const app = createApp({
    driver: first.driver,
    instance: TEACHER_INSTANCE,
    auth,
    pageDir,
    api: {
      scope,
      standby: false,
      busy,
      driverFor,
      beforeStart(s, lab) {
        if (s.instance === TEACHER_INSTANCE) return;
        const engine = byName.get(placeWorld(s.instance)) as ClassEngine;
        const r = request(roomOf(engine.name), engine.budget, s.instance, cost);
        rooms.set(engine.name, r.state);
        if (r.decision.admitted) return;
        waiting.set(s.instance, { lab, seed: s.seed ?? s.instance });
        broadcast({ type: 'world', instance: s.instance, state: 'queued', position: r.decision.position });
        throw new HttpError(
          503,
          `the class server is full right now: you are number ${r.decision.position} in line, and your world starts by itself when there is room`,
          { queued: true, position: r.decision.position },
        );
      },
      afterStop(s) {
        waiting.delete(s.instance);
        const engine = engineOf(s.instance);
        if (!engine) return;
        rooms.set(engine, release(roomOf(engine), s.instance));
        admitNext(engine);
      },
      onReport(s, report: Report) {
        const id = learnerIdOfInstance(s.instance);
        if (!id || s.instance === TEACHER_INSTANCE || !store.learner(id)) return;
        store.recordRun(id, report);
        broadcast({ type: 'report', learner: id, lab: report.lab, score: report.score, maxScore: report.maxScore });
      },
    },
    routes: (a) => a.use('/teacher', teacherRoutes()),
  });

  function teacherOnly(req: Request, _res: Response, next: NextFunction) {
    if (auth.principal(req)?.role !== 'teacher') throw new HttpError(403, 'only the teacher may open this');
    next();
  }

  async function labParam(value: unknown): Promise<Lab> {
    const q = typeof value === 'string' && value ? value : spec.labs[0];
    if (!q || !/^[a-z0-9-]{1,40}$/.test(q)) throw new HttpError(400, 'lab must be a lab number or name');
    const lab = await findLab(q);
    if (!spec.labs.includes(lab.id)) throw new HttpError(400, `lab ${lab.id} is not open in this class`);
    return lab;
  }

  async function table(lab: Lab): Promise<TableView> {
    const latest = store.latestReports(lab.id);
    const checks = labChecks(lab, varsFor(lab, 'teacher')).map((c) => ({ id: c.id, title: c.title, points: c.points }));
    const learners = store
      .learners()
      .filter((l) => !l.revokedAt)
      .map((l): TableRow => {
        const instance = instanceOf(l.id);
        const report = latest.get(l.id);
        const runs = store.runs(l.id, lab.id);
        const engine = engineOf(instance);
        const room = engine ? roomOf(engine) : EMPTY;
        const position = positionOf(room, instance);
        return {
          id: l.id,
          name: l.name,
          instance,
          ...(engines.length > 1 && engine ? { engine } : {}),
          world: room.running.has(instance)
            ? { state: 'running' }
            : position
              ? { state: 'queued', position }
              : { state: 'stopped' },
          ...(report ? { score: report.score, maxScore: report.maxScore } : {}),
          checks: Object.fromEntries((report?.results ?? []).map((r) => [r.id, r.status])),
          runs: runs.length,
          terminals: learnerTerminals(instance).length,
          ...(runs.length
            ? {
                lastRunAt: runs
                  .map((r) => r.at)
                  .sort()
                  .pop(),
              }
            : {}),
          ...(runs.length ? { lastProgressAt: lastProgress(runs) } : {}),
        };
      });
    return { lab: { id: lab.id, title: lab.title }, checks, learners, generatedAt: new Date().toISOString() };
  }

  function teacherRoutes(): express.Router {
    const r = express.Router();
    r.use(teacherOnly);
    // The page's terminals (the watch view) need the style nonce, as the learner's page does.
    r.get('/', pageWithNonce(join(pageDir, 'teacher.html')));
    r.get('/api/class', async (_req, res) => {
      const labs = await Promise.all(spec.labs.map((id) => findLab(id)));
      res.json({ name: spec.name, labs: labs.map((l) => ({ id: l.id, title: l.title })) });
    });
    r.get('/api/table', async (req, res) => res.json(await table(await labParam(req.query.lab))));
    r.get('/api/audit', (_req, res) => res.json(store.auditLog(100)));
    r.get('/api/export', async (req, res) => {
      const lab = await labParam(req.query.lab);
      const format = String(req.query.format ?? 'csv') as ExportFormat;
      if (!EXPORT_FORMATS.includes(format))
        throw new HttpError(400, `format must be one of ${EXPORT_FORMATS.join(', ')}`);
      const out = renderExport(classResults(lab, store.learners(), store.latestReports(lab.id), new Date()), format);
      store.audit('teacher', 'exported grades', `lab ${lab.id} as ${format}`);
      const ext = format === 'junit' ? 'xml' : format;
      res.setHeader('Content-Disposition', `attachment; filename="lab-${lab.id}-grades.${ext}"`);
      res.type(out.type).send(out.body);
    });
    /** A learner's world started over in the lab it runs (its answers are lost: the page asked first). */
    r.post('/api/reset', async (req, res) => {
      const id = (req.body as { learner?: unknown } | undefined)?.learner;
      if (typeof id !== 'string' || !store.learner(id))
        throw new HttpError(400, 'learner must be a learner of this class');
      const instance = instanceOf(id);
      if (busy.has(instance)) throw new HttpError(409, `${id}'s world is busy: ${busy.get(instance)}`);
      const driver = driverFor(instance);
      const running = await runningLab(driver, instance);
      if (!running) throw new HttpError(409, `${id} has no lab running`);
      busy.set(instance, `reset by the teacher`);
      try {
        await stop(driver, instance);
        await startLab(driver, running.lab, { instance, seed: running.seed, replace: true, standby: false });
      } finally {
        busy.delete(instance);
      }
      store.audit('teacher', 'reset a lab', `${id}: lab ${running.lab.id}`);
      broadcast({ type: 'world', instance, state: 'running' });
      res.json({ reset: id, lab: running.lab.id });
    });
    /** Opening a learner's terminal is logged: the learner's page is theirs. */
    r.post('/api/help', (req, res) => {
      const id = (req.body as { learner?: unknown } | undefined)?.learner;
      if (typeof id !== 'string' || !store.learner(id))
        throw new HttpError(400, 'learner must be a learner of this class');
      store.audit('teacher', 'opened a terminal to help', id);
      res.json({ instance: instanceOf(id) });
    });
    /** A learner's live terminals, to watch one read-only (WS_WATCH_PATH). */
    r.get('/api/terminals', (req, res) => {
      const id = req.query.learner;
      if (typeof id !== 'string' || !store.learner(id))
        throw new HttpError(400, 'learner must be a learner of this class');
      const list: LiveTerminalView[] = learnerTerminals(instanceOf(id)).map((t) => ({
        id: t.id,
        node: t.node,
        openedAt: t.openedAt,
        cols: t.cols,
        rows: t.rows,
      }));
      res.json(list);
    });
    // Server-sent events: a check run, a world queued or started. The page reloads its table on each.
    r.get('/api/events', (req, res) => {
      res.writeHead(200, {
        'Content-Type': 'text/event-stream',
        'Cache-Control': 'no-store',
        Connection: 'keep-alive',
      });
      res.write(': hello\n\n');
      listeners.add(res);
      const ping = setInterval(() => res.write(': ping\n\n'), 25_000);
      req.on('close', () => {
        clearInterval(ping);
        listeners.delete(res);
      });
    });
    return r;
  }

  const server = opts.tls ? createHttps({ cert: opts.tls.cert, key: opts.tls.key }, app) : createHttp(app);
  server.requestTimeout = 0;
  server.headersTimeout = 30_000;
  const closeTerminals = attachTerminals(server, {
    driver: first.driver,
    driverFor,
    auth,
    instance: TEACHER_INSTANCE,
    scope,
    terminals,
    // Only the teacher watches, and only read-only; a learner may not even watch their own.
    mayWatch: (req) => auth.principal(req)?.role === 'teacher',
    onWatch: (_req, t) =>
      store.audit('teacher', 'watched a terminal', `${learnerIdOfInstance(t.instance) ?? t.instance} on ${t.node}`),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const shown = opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    origin: `${opts.tls ? 'https' : 'http'}://${shown}:${port}`,
    port,
    server,
    admission: merged,
    engineOf,
    close: async () => {
      clearInterval(sweeper);
      await sweeping;
      await Promise.allSettled([...background]);
      await new Promise<void>((resolve) => {
        for (const res of listeners) res.end();
        closeTerminals();
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
