// The class server (hurrynet serve), run by the real CLI in a process of its own for a class of 30:
// its memory idle and with every learner signed in and polling as the page does (the teacher's
// live table open), and how long after a learner's check ends the teacher's table shows it (one
// learner's world, lab 1). The worlds-at-once target of the classroom issue is not measured here.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { instanceOf } from '../../orchestrator/classroom/class-file.js';
import { stop } from '../../orchestrator/runtime/engine.js';
import { round, rssMb, startCliServer, stopCliServer, type StageContext } from './context.js';

const LEARNERS = 30;
const learnerId = (i: number) => `bench-l${String(i).padStart(2, '0')}`;

interface Served {
  child: ChildProcess;
  origin: string;
  teacher: string;
}

async function startServe(classFile: string, data: string): Promise<Served> {
  const args = ['serve', '--class', classFile, '--data', data, '--listen', '127.0.0.1:0', '--idle', '0'];
  const { child, found } = await startCliServer(args, (out) => {
    const origin = / on (http:\/\/\S+)/.exec(out)?.[1];
    const teacher = /teacher: (\S+)/.exec(out)?.[1];
    return origin && teacher ? { origin, teacher } : undefined;
  });
  return { child, ...found };
}

/** Trades a link's token for the session cookie, as the browser does on the first visit. */
async function signIn(link: string): Promise<string> {
  const r = await fetch(link, { redirect: 'manual' });
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  if (r.status !== 303 || !cookie) throw new Error(`bench: signing in with ${link} answered ${r.status}`);
  return cookie;
}

/** Reads an NDJSON answer to its end; resolves with when each event type first came. */
async function stream(url: string, cookie: string, body: unknown): Promise<Map<string, number>> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { cookie, 'Content-Type': 'application/json', Accept: 'application/x-ndjson' },
    body: JSON.stringify(body),
  });
  if (!r.ok || !r.body) throw new Error(`bench: ${url} answered ${r.status}: ${await r.text()}`);
  const seen = new Map<string, number>();
  let rest = '';
  for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
    rest += Buffer.from(chunk).toString();
    const lines = rest.split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines.filter(Boolean)) {
      const type = (JSON.parse(line) as { type: string }).type;
      if (!seen.has(type)) seen.set(type, performance.now());
    }
  }
  return seen;
}

export async function classroomStage(ctx: StageContext): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hn-bench-class-'));
  const classFile = join(dir, 'class.yaml');
  const ids = Array.from({ length: LEARNERS }, (_, i) => learnerId(i + 1));
  writeFileSync(
    classFile,
    `name: bench\nlabs: [1]\nlearners:\n${ids.map((id) => `  - { id: ${id}, name: ${id} }`).join('\n')}\n`,
  );
  const first = instanceOf(ids[0] as string);
  let served: Served | undefined;
  const pollers: NodeJS.Timeout[] = [];
  const abort = new AbortController();
  try {
    ctx.progress('bench: the class server, 30 learners');
    served = await startServe(classFile, join(dir, 'data'));
    const { origin, child } = served;
    await new Promise((r) => setTimeout(r, 2000));
    const idle = rssMb(child.pid as number);
    const links = readFileSync(join(dir, 'data', 'learners.csv'), 'utf8')
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((row) => row.split(',')[2] as string);
    const cookies = await Promise.all(links.map(signIn));
    // Each learner's page: its first look, then a status every 10 s.
    const look = (cookie: string) =>
      Promise.all(
        ['/api/session', '/api/labs', '/api/instance'].map((p) => fetch(`${origin}${p}`, { headers: { cookie } })),
      ).then((rs) => Promise.all(rs.map((r) => r.arrayBuffer())));
    await Promise.all(cookies.map(look));
    for (const c of cookies) pollers.push(setInterval(() => void look(c).catch(() => undefined), 10_000));
    // The teacher's page: the table, and the events that refresh it.
    const teacher = await signIn(served.teacher);
    const events = await fetch(`${origin}/teacher/api/events`, { headers: { cookie: teacher }, signal: abort.signal });
    const reports: number[] = [];
    void (async () => {
      for await (const chunk of events.body as unknown as AsyncIterable<Uint8Array>)
        if (Buffer.from(chunk).toString().includes('"type":"report"')) {
          // The page fetches the table on each event: the update is done when it has it.
          await (await fetch(`${origin}/teacher/api/table?lab=01`, { headers: { cookie: teacher } })).arrayBuffer();
          reports.push(performance.now());
        }
    })().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 12_000));
    const connected = rssMb(child.pid as number);
    ctx.add({
      name: `class: server memory (RSS) with ${LEARNERS} learners signed in`,
      value: round(connected, 1),
      unit: 'MB',
      baseline: round(idle, 1),
      baselineName: 'the same server before anyone signed in',
      target: 150,
      targetOn: 'value',
    });
    // One learner starts lab 1 and checks it; the teacher's table has the run this long after.
    const cookie = cookies[0] as string;
    await stream(`${origin}/api/start`, cookie, { lab: '1', force: true });
    const checked = (await stream(`${origin}/api/check`, cookie, {})).get('checked');
    const until = performance.now() + 10_000;
    while (!reports.length && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
    if (checked === undefined || !reports.length) throw new Error("bench: the teacher's table never showed the check");
    ctx.add({
      name: "class: teacher's table updated after a learner's check ended",
      value: round(Math.max(0, (reports[0] as number) - checked) / 1000, 3),
      unit: 's',
      target: 1,
      targetOn: 'value',
    });
  } finally {
    for (const p of pollers) clearInterval(p);
    abort.abort();
    if (served) await stopCliServer(served.child);
    await stop(ctx.driver, first).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
