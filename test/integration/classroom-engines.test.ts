// A class on two Docker engines of this machine: the first engine and the second one of
// scripts/engine2.sh (its own socket, data root and subnet pool). Three learners start their worlds
// through the class server's HTTP api; they are spread over both engines, each stays on its engine
// over a restart of the server, and a learner's terminal and check reach the engine that holds the
// world: a marker written straight into the world on its engine comes back through the terminal,
// and the check grades it (the other engine has no such instance).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEFAULT_WORLD_COST } from '../../orchestrator/classroom/admission.js';
import { instanceOf, type ClassSpec } from '../../orchestrator/classroom/class-file.js';
import type { TableView } from '../../orchestrator/classroom/protocol.js';
import { syncRoster, teacherLink } from '../../orchestrator/classroom/roster.js';
import { startClassServer, type ClassEngine, type ClassServer } from '../../orchestrator/classroom/server.js';
import { Store } from '../../orchestrator/classroom/store.js';
import { runningLab } from '../../orchestrator/labs/labrun.js';
import type { Driver } from '../../orchestrator/runtime/driver.js';
import { connect, parseEngines } from '../../orchestrator/runtime/endpoint.js';
import { stop } from '../../orchestrator/runtime/engine.js';
import { projectRoot } from '../../orchestrator/runtime/paths.js';
import { containerName } from '../../orchestrator/runtime/plan.js';
import { prepareEngine2Images } from '../engine2-images.js';
import { engine2Env, engine2Present } from '../engine2.js';
import { driver } from './helpers.js';

const env2 = engine2Env(projectRoot());
const present = engine2Present(env2);
if (!present && process.env.HURRYNET_REQUIRE_ENGINE2 === '1')
  throw new Error(`HURRYNET_REQUIRE_ENGINE2=1 but the second engine is not running (${env2.DOCKER_HOST})`);

const LEARNERS = ['it-eng-ada', 'it-eng-bob', 'it-eng-cy'];
const spec: ClassSpec = {
  name: 'two engines',
  labs: ['01'],
  learners: LEARNERS.map((id) => ({ id, name: id })),
};
const data = mkdtempSync(join(tmpdir(), 'hn-class-engines-'));
const budget = { memoryMb: DEFAULT_WORLD_COST.memoryMb * 4, cpus: 100 };
const FIRST = 'unix:///var/run/docker.sock';
const SECOND = env2.DOCKER_HOST as string;

let engines: ClassEngine[];
let store: Store;
let server: ClassServer;
const cookies: Record<string, string> = {};

async function startServer(port = 0): Promise<void> {
  store = new Store(join(data, 'class.db'));
  server = await startClassServer({ driver, engines, spec, store, host: '127.0.0.1', port, budget });
}

const driverOf = (engine: string | undefined): Driver => {
  const e = engines.find((x) => x.name === engine);
  if (!e) throw new Error(`no engine ${String(engine)}`);
  return e.driver;
};

/** Signs in with the learner's link and keeps the session cookie. */
async function signIn(url: string): Promise<string> {
  const r = await fetch(url, { redirect: 'manual' });
  expect(r.status).toBe(303);
  return (r.headers.get('set-cookie') ?? '').split(';')[0] as string;
}

async function api(who: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const r = await fetch(`${server.origin}/api${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { cookie: cookies[who] as string, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: r.status, text: await r.text() };
}

/** Types a command in a terminal of the learner's alice and waits for the pattern in its output. */
function terminalSays(who: string, command: string, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.origin.replace('http', 'ws')}/ws/terminal?node=alice&cols=100&rows=30`, {
      headers: { cookie: cookies[who] as string, origin: server.origin },
    });
    let out = '';
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`the terminal never showed ${String(pattern)}; it showed:\n${out}`));
    }, 30_000);
    ws.on('unexpected-response', (_req, res) => reject(new Error(`terminal refused: ${res.statusCode}`)));
    ws.on('message', (data, binary) => {
      if (!binary) {
        if ((JSON.parse(String(data)) as { type: string }).type === 'ready') ws.send(Buffer.from(`${command}\n`));
        return;
      }
      out += String(data);
      if (pattern.test(out)) {
        clearTimeout(timer);
        ws.close();
        resolve(out);
      }
    });
    ws.on('error', reject);
  });
}

const stopAll = () =>
  Promise.all(engines.flatMap((e) => LEARNERS.map((id) => stop(e.driver, instanceOf(id)).catch(() => undefined))));

describe.skipIf(!present)('a class on two engines', () => {
  beforeAll(async () => {
    engines = parseEngines(`${FIRST},${SECOND}=${env2.HURRYNET_SUBNET_POOL ?? '10.249.0.0/16'}`).map((s, i) => ({
      name: s.name,
      driver: connect(s, i),
      budget,
    }));
    await prepareEngine2Images(engines[1]?.driver as Driver, (m) => process.stderr.write(`[engine2] ${m}\n`));
    await stopAll();
    await startServer();
    for (const l of syncRoster(store, spec, server.origin)) cookies[l.learnerId] = await signIn(l.url);
  }, 600_000);

  afterAll(async () => {
    await server?.close();
    store?.close();
    if (engines) await stopAll();
    rmSync(data, { recursive: true, force: true });
  });

  it(
    'spreads the learners over both engines, each world on the engine it was placed on',
    { timeout: 300_000 },
    async () => {
      for (const id of LEARNERS) {
        const r = await api(id, '/start', { lab: '01' });
        expect(r.status, r.text).toBe(200);
        expect(r.text).toMatch(/"type":"started"/);
      }
      const placed = LEARNERS.map((id) => server.engineOf(instanceOf(id)));
      // In the teacher's order while equally loaded: the first, the second, the first again.
      expect(placed).toEqual([FIRST, SECOND, FIRST]);
      for (const [i, id] of LEARNERS.entries()) {
        const here = driverOf(placed[i]);
        const other = driverOf(placed[i] === FIRST ? SECOND : FIRST);
        expect((await runningLab(here, instanceOf(id)))?.lab.id).toBe('01');
        expect(await runningLab(other, instanceOf(id))).toBeUndefined();
        expect(store.learner(id)?.engine).toBe(placed[i]);
      }
      // The teacher's table says where each world is.
      const teacher = await signIn(teacherLink(store, server.origin));
      const table = (await (
        await fetch(`${server.origin}/teacher/api/table?lab=01`, { headers: { cookie: teacher } })
      ).json()) as TableView;
      expect(table.learners.map((l) => [l.id, l.engine, l.world.state])).toEqual(
        LEARNERS.map((id, i) => [id, placed[i], 'running']),
      );
    },
  );

  it("takes a learner's terminal and check to the engine of their world", { timeout: 180_000 }, async () => {
    const bob = LEARNERS[1] as string;
    const engine2 = driverOf(SECOND);
    // Written straight into Bob's alice on the second engine, past the class server.
    const marker = `engine2-${Date.now()}`;
    const w = await engine2.exec(containerName(instanceOf(bob), 'alice'), ['sh', '-c', `echo ${marker} > /tmp/where`]);
    expect(w.exitCode).toBe(0);
    await terminalSays(bob, 'cat /tmp/where', new RegExp(marker));
    const r = await api(bob, '/check', {});
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/"type":"checked"/);
    expect(r.text).not.toMatch(/"type":"error"/);
    expect(store.runs(bob, '01')).toHaveLength(1);
    // The learner on the first engine is graded there too.
    const ada = LEARNERS[0] as string;
    const a = await api(ada, '/check', {});
    expect(a.text).toMatch(/"type":"checked"/);
    expect(store.runs(ada, '01')).toHaveLength(1);
  });

  it(
    'keeps every learner on their engine over a restart, where the worlds hold their room',
    { timeout: 120_000 },
    async () => {
      const port = server.port;
      await server.close();
      store.close();
      // The sessions are in the store: on the same address, the learners' cookies still work.
      await startServer(port);
      expect(LEARNERS.map((id) => server.engineOf(instanceOf(id)))).toEqual([FIRST, SECOND, FIRST]);
      expect([...server.admission().running.keys()].sort()).toEqual(LEARNERS.map(instanceOf).sort());
      const bob = LEARNERS[1] as string;
      await terminalSays(bob, 'cat /tmp/where', /engine2-\d+/);
      const view = JSON.parse((await api(bob, '/instance')).text) as { lab?: { id: string } };
      expect(view.lab?.id).toBe('01');
    },
  );
});
