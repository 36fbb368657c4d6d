// The class server on a real engine, in a real browser: three learners and the teacher in browser
// contexts of their own. Each learner sees only the labs the class opened and only their own world;
// a learner's crafted requests for the other's instance or for a teacher route are refused (403),
// over HTTP and WebSocket. The teacher's table fills in when a learner checks. With room for one
// world, the second learner is queued and admitted when the first world stops. A restarted server
// keeps the history and the sessions, and the terminals connect again; the teacher watches a
// learner's terminal read-only (what the teacher types never reaches it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import WebSocket from 'ws';
import { instanceOf, type ClassSpec } from '../../orchestrator/classroom/class-file.js';
import { DEFAULT_WORLD_COST } from '../../orchestrator/classroom/admission.js';
import { syncRoster, teacherLink } from '../../orchestrator/classroom/roster.js';
import { startClassServer, type ClassServer } from '../../orchestrator/classroom/server.js';
import { Store } from '../../orchestrator/classroom/store.js';
import { runningLab } from '../../orchestrator/labs/labrun.js';
import { stop } from '../../orchestrator/runtime/engine.js';
import { launchChromium } from './browser.js';
import { driver } from './helpers.js';

const ADA = 'it-ada';
const BOB = 'it-bob';
const CY = 'it-cy';
const spec: ClassSpec = {
  name: 'integration class',
  labs: ['01', '03'],
  learners: [
    { id: ADA, name: 'Ada Lovelace' },
    { id: BOB, name: 'Bob Kahn' },
    { id: CY, name: 'Cy Cerf' },
  ],
};
const data = mkdtempSync(join(tmpdir(), 'hn-class-'));
const shots = mkdtempSync(join(tmpdir(), 'hn-class-shots-'));
let store: Store;
let server: ClassServer;
let browser: Browser;
const pages: Record<string, Page> = {};
const contexts: BrowserContext[] = [];
let links: Record<string, string> = {};

/** Room for exactly one learner world: the second is queued. */
const budget = { memoryMb: DEFAULT_WORLD_COST.memoryMb * 1.5, cpus: 100 };

async function startServer(port = 0, idle: { idleMs?: number; sweepMs?: number } = {}): Promise<void> {
  store = new Store(join(data, 'class.db'));
  server = await startClassServer({ driver, spec, store, host: '127.0.0.1', port, budget, ...idle });
}

function screenshotsOnFailure(name: string): void {
  onTestFailed(async () => {
    for (const [who, page] of Object.entries(pages)) {
      const path = join(shots, `${name}-${who}.png`);
      await page.screenshot({ path, fullPage: true }).catch(() => undefined);
      process.stderr.write(`[classroom test] screenshot: ${path}\n`);
    }
  });
}

const status = (page: Page, path: string, init?: { method: string; body: string }) =>
  page.evaluate(
    async ([p, i]) =>
      (await fetch(p as string, i ? { ...(i as RequestInit), headers: { 'Content-Type': 'application/json' } } : {}))
        .status,
    [path, init] as const,
  );

async function cookieOf(who: string): Promise<string> {
  const context = pages[who]?.context();
  const c = (await context?.cookies())?.find((k) => k.name.startsWith('hurrynet-class'));
  return c ? `${c.name}=${c.value}` : '';
}

function wsStatus(path: string, cookie: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = new WebSocket(`${server.origin.replace('http', 'ws')}${path}`, {
      headers: { cookie, origin: server.origin },
    });
    s.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    s.on('open', () => {
      s.close();
      resolve(101);
    });
    s.on('error', reject);
  });
}

beforeAll(async () => {
  await Promise.all([stop(driver, instanceOf(ADA)), stop(driver, instanceOf(BOB))]);
  await startServer();
  const issued = syncRoster(store, spec, server.origin);
  links = Object.fromEntries(issued.map((l) => [l.learnerId, l.url]));
  links.teacher = teacherLink(store, server.origin);
  browser = await launchChromium();
  for (const who of [ADA, BOB, CY, 'teacher']) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('dialog', (d) => void d.accept());
    pages[who] = page;
  }
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  store?.close();
  await Promise.all([stop(driver, instanceOf(ADA)), stop(driver, instanceOf(BOB))]);
  rmSync(data, { recursive: true, force: true });
});

describe('a class on one server', () => {
  it("signs each learner in to their own labs and refuses the other's instance and the teacher's routes", async () => {
    screenshotsOnFailure('sign-in');
    const ada = pages[ADA] as Page;
    expect((await fetch(`${server.origin}/?token=wrong`, { redirect: 'manual' })).status).toBe(401);
    await ada.goto(links[ADA] as string);
    await ada.waitForSelector('body[data-ready="true"]');
    expect(ada.url()).not.toContain('token=');
    expect(await ada.textContent('#instance')).toBe(instanceOf(ADA));
    expect(await ada.locator('button[data-start="01"]').count()).toBe(1);
    expect(await ada.locator('button[data-start="03"]').count()).toBe(1);
    expect(await ada.locator('button[data-start="02"]').count()).toBe(0);
    // Crafted by hand in Ada's signed-in browser.
    expect(await status(ada, `/api/instance?instance=${instanceOf(BOB)}`)).toBe(403);
    expect(
      await status(ada, '/api/stop', { method: 'POST', body: JSON.stringify({ instance: instanceOf(BOB) }) }),
    ).toBe(403);
    expect(await status(ada, '/api/start', { method: 'POST', body: JSON.stringify({ lab: '02' }) })).toBe(403);
    expect(await status(ada, '/teacher/api/table')).toBe(403);
    expect(await status(ada, '/teacher/api/export?format=csv')).toBe(403);
    const cookie = await cookieOf(ADA);
    expect(cookie).toBeTruthy();
    expect(await wsStatus(`/ws/terminal?node=alice&instance=${instanceOf(BOB)}`, cookie)).toBe(403);

    const teacher = pages.teacher as Page;
    await teacher.goto(links.teacher as string);
    expect(teacher.url()).toMatch(/\/teacher$/);
    await teacher.waitForSelector(`#table tr[data-learner="${ADA}"]`);
    expect(await teacher.locator('#table tbody tr').count()).toBe(3);
    // A third learner, signed in at the same time, is in their own world and refused Ada's.
    const cy = pages[CY] as Page;
    await cy.goto(links[CY] as string);
    await cy.waitForSelector('body[data-ready="true"]');
    expect(await cy.textContent('#instance')).toBe(instanceOf(CY));
    expect(await status(cy, `/api/instance?instance=${instanceOf(ADA)}`)).toBe(403);
    expect(await wsStatus(`/ws/terminal?node=alice&instance=${instanceOf(ADA)}`, await cookieOf(CY))).toBe(403);
  });

  it("fills the teacher's table when a learner checks", { timeout: 300_000 }, async () => {
    screenshotsOnFailure('check');
    const ada = pages[ADA] as Page;
    await ada.click('button[data-start="01"]');
    await ada.waitForFunction(
      () => /ready: lab 01/.test(document.querySelector('#progress')?.textContent ?? ''),
      null,
      {
        timeout: 240_000,
      },
    );
    await ada.click('.panel-tabs [data-panel="check"]');
    await ada.click('#btn-check');
    await ada.waitForFunction(() => /points/.test(document.querySelector('#score')?.textContent ?? ''), null, {
      timeout: 120_000,
    });
    const teacher = pages.teacher as Page;
    await teacher.waitForFunction(
      (id) => /\d+\/\d+/.test(document.querySelector(`#table tr[data-learner="${id}"] td.score`)?.textContent ?? ''),
      ADA,
      { timeout: 10_000 },
    );
    expect(
      await teacher.locator(`#table tr[data-learner="${ADA}"] td[data-check="create"]`).getAttribute('class'),
    ).toBe('failed');
  });

  it(
    'queues the second learner while the room is taken, and starts their world when it frees',
    { timeout: 300_000 },
    async () => {
      screenshotsOnFailure('queue');
      const bob = pages[BOB] as Page;
      await bob.goto(links[BOB] as string);
      await bob.waitForSelector('body[data-ready="true"]');
      await bob.click('button[data-start="01"]');
      await bob.waitForFunction(() => /number 1 in line/.test(document.body.textContent ?? ''), null, {
        timeout: 30_000,
      });
      const teacher = pages.teacher as Page;
      await teacher.waitForFunction(
        (id) => /queued/.test(document.querySelector(`#table tr[data-learner="${id}"]`)?.textContent ?? ''),
        BOB,
        { timeout: 10_000 },
      );
      // Ada stops her world (the page asks first; the dialog is accepted): Bob's starts by itself.
      await (pages[ADA] as Page).click('#btn-stop');
      const until = Date.now() + 240_000;
      while (Date.now() < until && (await runningLab(driver, instanceOf(BOB)))?.lab.id !== '01')
        await new Promise((r) => setTimeout(r, 1000));
      expect((await runningLab(driver, instanceOf(BOB)))?.lab.id).toBe('01');
      await teacher.waitForFunction(
        (id) => /running/.test(document.querySelector(`#table tr[data-learner="${id}"]`)?.textContent ?? ''),
        BOB,
        { timeout: 60_000 },
      );
      expect(server.admission().running.has(instanceOf(BOB))).toBe(true);
      expect(server.admission().running.has(instanceOf(ADA))).toBe(false);
    },
  );

  it('keeps history and sessions over a restart, and the terminals connect again', { timeout: 120_000 }, async () => {
    screenshotsOnFailure('restart');
    const port = server.port;
    await server.close();
    store.close();
    await startServer(port);
    // Bob's world is found again and holds its room.
    expect(server.admission().running.has(instanceOf(BOB))).toBe(true);
    const bob = pages[BOB] as Page;
    await bob.reload();
    await bob.waitForSelector('body[data-ready="true"]');
    await bob.click('#world g[data-node="alice"]');
    await bob.waitForSelector('.term-pane[data-node="alice"] .term-overlay[hidden]', {
      state: 'attached',
      timeout: 60_000,
    });
    await bob.locator('.term-tab[data-node="alice"] span').first().click();
    await bob.keyboard.type('echo class-$((6*7))\n');
    await bob.waitForFunction(
      () =>
        /class-42/.test(
          [...(document.querySelector('.term-pane[data-node="alice"] .xterm-rows')?.children ?? [])]
            .map((r) => r.textContent)
            .join('\n'),
        ),
      null,
      { timeout: 20_000 },
    );
    const teacher = pages.teacher as Page;
    await teacher.reload();
    await teacher.waitForSelector(`#table tr[data-learner="${ADA}"] td.score`);
    expect(await teacher.textContent(`#table tr[data-learner="${ADA}"] td.score`)).toMatch(/\d+\/\d+/);
    const csv = await teacher.evaluate(async () => (await fetch('/teacher/api/export?lab=01&format=csv')).text());
    expect(csv).toMatch(new RegExp(`^${ADA},`, 'm'));
    const audit = store.auditLog(50).map((r) => r.action);
    expect(audit).toEqual(expect.arrayContaining(['signed in', 'exported grades', 'started a queued world']));
  });

  it("lets the teacher watch a learner's terminal read-only, live", { timeout: 90_000 }, async () => {
    screenshotsOnFailure('watch');
    const teacher = pages.teacher as Page;
    const bob = pages[BOB] as Page;
    const rows = (p: Page, selector: string) =>
      p.evaluate(
        (sel) => [...(document.querySelector(sel)?.children ?? [])].map((r) => r.textContent).join('\n'),
        selector,
      );
    const bobText = () => rows(bob, '.term-pane[data-node="alice"] .xterm-rows');
    const watchRows = '#watch-panes .watch-pane[data-node="alice"] .xterm-rows';
    const listed = await teacher.evaluate(
      async (id) =>
        (await (await fetch(`/teacher/api/terminals?learner=${id}`)).json()) as { id: string; node: string }[],
      BOB,
    );
    expect(listed.map((t) => t.node)).toEqual(['alice']);
    const session = listed[0]?.id ?? '';

    await teacher.click(`#table tr[data-learner="${BOB}"] button[data-watch="${BOB}"]:not([disabled])`);
    expect(await teacher.textContent('#watch-panes .watch-label')).toContain(
      "read-only: you are watching Bob Kahn's terminal on alice",
    );
    // The replay: what Bob typed before the teacher came.
    await teacher.waitForFunction((sel) => /class-42/.test(document.querySelector(sel)?.textContent ?? ''), watchRows, {
      timeout: 20_000,
    });
    // Then live output.
    await bob.locator('.term-tab[data-node="alice"] span').first().click();
    await bob.keyboard.type('echo watched-$((5*5))\n');
    await teacher.waitForFunction(
      (sel) => /watched-25/.test(document.querySelector(sel)?.textContent ?? ''),
      watchRows,
      {
        timeout: 20_000,
      },
    );

    // Typed into the watch view, and sent on its socket by hand: neither reaches Bob's shell.
    await teacher.click('#watch-panes .watch-pane[data-node="alice"] .watch-term');
    await teacher.keyboard.type('echo leak-$((1+1))\n');
    await teacher.evaluate(() =>
      (window as unknown as { hurrynetTeacher?: { watching(): { ws: WebSocket }[] } }).hurrynetTeacher
        ?.watching()[0]
        ?.ws.send(new TextEncoder().encode('echo leak-$((1+1))\r')),
    );
    // Bob's next command comes after those: once its output shows, a leak would have shown too.
    await bob.keyboard.type('echo after-$((3*3))\n');
    await bob.waitForFunction(
      () => /after-9/.test(document.querySelector('.term-pane[data-node="alice"] .xterm-rows')?.textContent ?? ''),
      null,
      { timeout: 20_000 },
    );
    await teacher.waitForFunction((sel) => /after-9/.test(document.querySelector(sel)?.textContent ?? ''), watchRows, {
      timeout: 20_000,
    });
    expect(await bobText()).not.toMatch(/leak-2/);
    expect(await rows(teacher, watchRows)).not.toMatch(/leak-2/);

    // A learner may not watch, not even their own terminal.
    expect(await wsStatus(`/ws/watch?session=${session}`, await cookieOf(BOB))).toBe(403);
    expect(store.auditLog(50).map((r) => r.action)).toContain('watched a terminal');
    await teacher.click('#watch-close');
    expect(await teacher.isHidden('#watch')).toBe(true);
  });

  it(
    "stops a world nobody looks at, and starts it again at its learner's next visit",
    { timeout: 240_000 },
    async () => {
      screenshotsOnFailure('idle');
      const port = server.port;
      await server.close();
      store.close();
      await startServer(port, { idleMs: 3000, sweepMs: 500 });
      // Bob closes his page: nothing asks for his world any more.
      const bob = pages[BOB] as Page;
      await bob.goto('about:blank');
      const until = Date.now() + 60_000;
      while (Date.now() < until && (await runningLab(driver, instanceOf(BOB))))
        await new Promise((r) => setTimeout(r, 500));
      expect(await runningLab(driver, instanceOf(BOB))).toBeUndefined();
      expect(store.auditLog(20).map((r) => r.action)).toContain('stopped an idle world');
      await bob.goto(server.origin);
      await bob.waitForSelector('body[data-ready="true"]');
      expect(await bob.textContent('#banner')).toMatch(
        /stopped after 3 seconds without a visit, and lab 01 is starting again/,
      );
      const back = Date.now() + 180_000;
      while (Date.now() < back && (await runningLab(driver, instanceOf(BOB)))?.lab.id !== '01')
        await new Promise((r) => setTimeout(r, 1000));
      expect((await runningLab(driver, instanceOf(BOB)))?.lab.id).toBe('01');
    },
  );
});
