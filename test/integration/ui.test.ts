// The browser page of `hurrynet ui` on a real world, in a real browser (Debian's chromium through
// playwright-core): the token and the WebSocket origin are enforced; lab 1 starts from the picker
// with progress, then the world; alice's terminal reaches Bob's notes and follows a resize; a click
// on home opens a second terminal; "Check my work" shows a failing check with its first hint and
// reveals the second; the reference solution makes every check pass; `journey web` shows the home
// router's NAT rewrite. A failed step leaves a screenshot in a temp folder (its path is printed).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './browser.js';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import WebSocket from 'ws';
import { findLab } from '../../orchestrator/labs/lab.js';
import { applySubmission, runningLab, validateSubmission } from '../../orchestrator/labs/labrun.js';
import { stop } from '../../orchestrator/runtime/engine.js';
import { startUiServer, type UiServer } from '../../orchestrator/ui/server.js';
import { driver } from './helpers.js';

const I = 't-ui1';
const shots = mkdtempSync(join(tmpdir(), 'hn-ui-shots-'));
let server: UiServer;
let browser: Browser;
let page: Page;
const problems: string[] = [];

/** What the page exposes for tests (window.hurrynet, see page/main.ts). */
type PageHandle = { hurrynet?: { terminals(): { node: string; term: { cols: number; rows: number } }[] } };

/** Takes a screenshot of the page when the current test fails. */
function screenshotOnFailure(name: string): void {
  onTestFailed(async () => {
    const path = join(shots, `${name}.png`);
    await page?.screenshot({ path, fullPage: true }).catch(() => undefined);
    process.stderr.write(`[ui test] screenshot of the failed step: ${path}\n`);
  });
}

/** The visible text of a terminal pane (xterm's DOM renderer: one element per row). */
async function termText(node: string, nth = 0): Promise<string> {
  return page
    .locator(`.term-pane[data-node="${node}"] .xterm-rows`)
    .nth(nth)
    .evaluate((el) => [...el.children].map((row) => row.textContent ?? '').join('\n'));
}

async function waitForTerm(node: string, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < until) {
    text = await termText(node);
    if (pattern.test(text)) return text;
    await page.waitForTimeout(100);
  }
  throw new Error(`the terminal on ${node} never showed ${pattern}; it shows:\n${text}`);
}

async function typeIn(node: string, text: string): Promise<void> {
  await page.locator(`.term-tab[data-node="${node}"] span`).first().click();
  await page.keyboard.type(text);
}

beforeAll(async () => {
  await stop(driver, I);
  server = await startUiServer({ driver, instance: I });
  browser = await launchChromium();
  // A fresh profile (playwright's context is one): no cookie from an earlier run.
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  page = await context.newPage();
  page.on('console', (m) => {
    // Failed responses are recorded with their address below.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await stop(driver, I);
});

describe('hurrynet ui in a browser', () => {
  it('refuses a request without the token, a foreign Host and a WebSocket from another origin', async () => {
    screenshotOnFailure('refusals');
    expect((await fetch(`${server.origin}/api/labs`)).status).toBe(401);
    expect((await fetch(`${server.origin}/`)).status).toBe(401);
    expect((await fetch(`${server.origin}/?token=wrong`, { redirect: 'manual' })).status).toBe(401);
    const exchange = await fetch(server.url, { redirect: 'manual' });
    expect(exchange.status).toBe(303);
    const cookie = (exchange.headers.get('set-cookie') ?? '').split(';')[0] as string;
    expect(exchange.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    expect((await fetch(`${server.origin}/api/labs`, { headers: { cookie } })).status).toBe(200);
    const ws = (origin: string) =>
      new Promise<number>((resolve, reject) => {
        const s = new WebSocket(`${server.origin.replace('http', 'ws')}/ws/terminal?node=alice`, {
          headers: { cookie, origin },
        });
        s.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        s.on('open', () => {
          s.close();
          resolve(101);
        });
        s.on('error', reject);
      });
    expect(await ws('http://evil.example')).toBe(403);
    // Our own origin gets past the origin check; with no world yet the node is refused as unknown.
    expect(await ws(server.origin)).toBe(400);
  });

  it('starts lab 1 from the picker, shows the progress, then the world', { timeout: 300_000 }, async () => {
    screenshotOnFailure('start');
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="true"]');
    expect(page.url()).not.toContain('token=');
    await page.click('button[data-start="01"]');
    await page.waitForFunction(() => /starting|replacing/.test(document.querySelector('#progress')?.textContent ?? ''));
    await page.waitForFunction(
      () => /ready: lab 01/.test(document.querySelector('#progress')?.textContent ?? ''),
      null,
      {
        timeout: 240_000,
      },
    );
    await page.waitForSelector('#world g[data-node="alice"].ready', { timeout: 30_000 });
    await page.waitForSelector('#world g[data-node="web"].ready');
    expect(await page.textContent('#status')).toMatch(/lab 01/);
    // The handout and the learner's task card.
    expect(await page.locator('#handout h1').first().textContent()).toBeTruthy();
  });

  it("alice's terminal reaches Bob's notes and follows a resize", { timeout: 60_000 }, async () => {
    screenshotOnFailure('terminal');
    await page.waitForSelector('.term-pane[data-node="alice"] .term-overlay[hidden]', { state: 'attached' });
    await typeIn('alice', 'curl -s http://web.bob.example/api/notes\n');
    await waitForTerm('alice', /\[\{"id":1,/);
    const size = () =>
      page.evaluate(() => {
        const t = (window as unknown as PageHandle).hurrynet?.terminals()[0]?.term;
        return { cols: t?.cols ?? 0, rows: t?.rows ?? 0 };
      });
    const before = (await size()).cols;
    await page.setViewportSize({ width: 1100, height: 850 });
    await page.waitForFunction(
      (c) => ((window as unknown as PageHandle).hurrynet?.terminals()[0]?.term.cols ?? c) !== c,
      before,
    );
    const { cols: after, rows } = await size();
    expect(after).toBeLessThan(before);
    await typeIn('alice', 'clear; stty size\n');
    await waitForTerm('alice', new RegExp(`^${rows} ${after}$`, 'm'));
  });

  it('opens a second terminal by clicking home in the world', { timeout: 60_000 }, async () => {
    screenshotOnFailure('second-terminal');
    await page.click('#world g[data-node="home"]');
    expect(await page.locator('.term-tab').count()).toBe(2);
    await page.waitForSelector('.term-pane[data-node="home"] .term-overlay[hidden]', { state: 'attached' });
    await typeIn('home', 'ip -br addr show lan\n');
    await waitForTerm('home', /192\.168\.1\.1\/24/);
  });

  it(
    'checks the untouched lab: a failing check with its first hint, then the second',
    { timeout: 120_000 },
    async () => {
      screenshotOnFailure('check-failing');
      await page.click('.panel-tabs [data-panel="check"]');
      await page.click('#btn-check');
      const create = page.locator('#results li.check[data-check="create"]');
      await create.locator('.reason').waitFor();
      await page.waitForSelector('#results li.check.failed[data-check="create"]', { timeout: 90_000 });
      expect(await create.locator('.hints li').count()).toBe(1);
      expect(await create.locator('.hints li').first().textContent()).toMatch(/\/api\/notes/);
      expect(await create.locator('details.evidence').count()).toBe(1);
      await page.waitForFunction(() => /points/.test(document.querySelector('#score')?.textContent ?? ''), null, {
        timeout: 90_000,
      });
      await create.locator('button.next-hint').click();
      await page.waitForSelector('#results li.check[data-check="create"] .hints li[data-level="2"]');
      expect(await create.locator('button.next-hint').textContent()).toMatch(/3 of 3/);
    },
  );

  it('passes every check once the reference solution is applied', { timeout: 150_000 }, async () => {
    screenshotOnFailure('check-solved');
    const running = await runningLab(driver, I);
    expect(running?.lab.id).toBe('01');
    const lab = await findLab('1');
    const vars = running?.vars ?? {};
    await applySubmission(driver, I, lab, validateSubmission(lab, vars, join(lab.dir, 'solution')));
    await page.click('#btn-check');
    await page.waitForFunction(
      () => /every required check passes/.test(document.querySelector('#score')?.textContent ?? ''),
      null,
      { timeout: 120_000 },
    );
    const total = await page.locator('#results li.check').count();
    expect(total).toBeGreaterThan(3);
    expect(await page.locator('#results li.check.passed').count()).toBe(total);
    // The same report is what a refresh (or `hurrynet check` elsewhere) shows.
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.locator('#results li.check.passed').count()).toBe(total);
  });

  it("follows `journey web` and shows the home router's NAT rewrite", { timeout: 150_000 }, async () => {
    screenshotOnFailure('journey');
    await page.click('.panel-tabs [data-panel="journey"]');
    await page.selectOption('#journey-preset', 'web');
    await page.click('#btn-journey');
    const home = page.locator('.nat-change[data-node="home"]').first();
    await home.waitFor({ timeout: 120_000 });
    expect(await home.textContent()).toMatch(/192\.168\.1\.101 → 203\.0\.113\.5 \(snat/);
    expect(await page.locator('#journey-frame').isVisible()).toBe(true);
    const frame = page.frameLocator('#journey-frame');
    expect(await frame.locator('h1').textContent()).toMatch(/Journey of/);
    // Nothing on the page broke the policy or threw.
    expect(problems).toEqual([]);
  });
});
