// The browser page (hurrynet ui) on the warm world, served by the real CLI in a process of its own
// and driven by Debian's chromium: how long after the server is up the page is interactive, how
// fast a keystroke comes back in a terminal (measured inside the page, from the key sent on the
// socket to xterm.js having drawn the echo), idle and with a busy loop on a node, and the server's
// memory with four terminals open. Skipped with a note where chromium or playwright-core is absent.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { containerName } from '../../orchestrator/runtime/plan.js';
import {
  median,
  percentile,
  round,
  rssMb,
  startCliServer,
  stopCliServer,
  type Measurement,
  type StageContext,
} from './context.js';

const CHROMIUM = process.env.HURRYNET_CHROMIUM ?? '/usr/bin/chromium';
const KEYS = 60;

/** Starts `hurrynet ui` for the instance; resolves with its URL once it listens. */
async function startServer(instance: string): Promise<{ child: ChildProcess; url: string; ms: number }> {
  const t0 = performance.now();
  const { child, found } = await startCliServer(
    ['ui', '--instance', instance, '--no-open'],
    (out) => /(http:\/\/\S+\?token=\S+)/.exec(out)?.[1],
  );
  return { child, url: found, ms: performance.now() - t0 };
}

/**
 * Inside the page: sends `keys` keystrokes to the first terminal, each after the last one's echo was
 * drawn. For each: when xterm.js had parsed the echo, and when the next frame (the one that shows it) began.
 */
function echoTimes(keys: number): Promise<{ parsed: number[]; drawn: number[] }> {
  type Term = {
    buffer: { active: { cursorX: number } };
    onWriteParsed(cb: () => void): { dispose(): void };
  };
  const handle = (window as unknown as { hurrynet?: { terminals(): { term: Term; ws?: WebSocket }[] } }).hurrynet;
  const t = handle?.terminals()[0];
  if (!t?.ws) throw new Error('no terminal');
  const { term, ws } = t;
  const echoed = (ok: () => boolean) =>
    new Promise<{ parsed: number; drawn: number }>((resolve) => {
      const d = term.onWriteParsed(() => {
        if (!ok()) return;
        d.dispose();
        const parsed = performance.now();
        requestAnimationFrame(() => resolve({ parsed, drawn: performance.now() }));
      });
    });
  return (async () => {
    const parsed: number[] = [];
    const drawn: number[] = [];
    for (let i = 0; i < keys; i++) {
      if (i % 20 === 0) {
        // Ctrl-U empties the line, so the cursor never wraps.
        ws.send(new Uint8Array([0x15]));
        await new Promise((r) => setTimeout(r, 150));
      }
      const x = term.buffer.active.cursorX;
      const seen = echoed(() => term.buffer.active.cursorX === x + 1);
      const t0 = performance.now();
      ws.send(new TextEncoder().encode('x'));
      const r = await seen;
      parsed.push(r.parsed - t0);
      drawn.push(r.drawn - t0);
    }
    ws.send(new Uint8Array([0x15]));
    return { parsed, drawn };
  })();
}

export async function uiStage(ctx: StageContext): Promise<void> {
  let launchChromium: typeof import('../../test/integration/browser.js').launchChromium;
  try {
    ({ launchChromium } = await import('../../test/integration/browser.js'));
  } catch {
    ctx.progress('ui: skipped (playwright-core is not installed; npm ci installs it)');
    return;
  }
  if (!existsSync(CHROMIUM)) {
    ctx.progress(`ui: skipped (no chromium at ${CHROMIUM}; npm run setup installs it)`);
    return;
  }
  ctx.progress('ui: the page in chromium: interactive time, keystroke echo, server memory with 4 terminals');
  // The page tests' own launch: headless, no sandbox, no traffic of its own, a fresh profile.
  const browser = await launchChromium();
  const servers: { child: ChildProcess; url: string }[] = [];
  let burner: string | undefined;
  try {
    // 1. Interactive: from the server listening to the page's data-ready (labs, instance, world drawn).
    const interactive: number[] = [];
    let idleRss = 0;
    const n = Math.max(3, ctx.settings.repeat);
    for (let i = 0; i < n; i++) {
      ctx.check();
      const s = await startServer(ctx.warm);
      servers.push(s);
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      const t0 = performance.now();
      await page.goto(s.url);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
      interactive.push((performance.now() - t0) / 1000);
      await context.close();
      await stopCliServer(s.child);
    }
    ctx.add({
      name: 'ui: page interactive after the server is up',
      value: round(median(interactive), 2),
      unit: 's',
      target: 1,
      targetOn: 'value',
      samples: interactive.map((v) => round(v, 2)),
    });

    // 2. Keystroke echo in alice's terminal, idle and with one busy loop on a node (half of 2 cores).
    // A fresh server for the rest: its memory settled after start, before any page, is the baseline.
    const fresh = await startServer(ctx.warm);
    servers.push(fresh);
    const { child: server, url } = fresh;
    await new Promise((r) => setTimeout(r, 1500));
    idleRss = rssMb(server.pid as number);
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]');
    for (const node of ['alice', 'home', 'web', 'isp']) {
      await page.click(`#world g[data-node="${node}"]`);
      await page.waitForSelector(`.term-pane[data-node="${node}"] .term-overlay[hidden]`, { state: 'attached' });
    }
    await page.click('.term-tab[data-node="alice"] span');
    await new Promise((r) => setTimeout(r, 500));
    const idle = await page.evaluate(echoTimes, KEYS);
    const web = containerName(ctx.warm, 'web');
    const started = await ctx.driver.exec(
      web,
      ['sh', '-c', 'timeout 120 sh -c "while :; do :; done" >/dev/null 2>&1 & echo $!'],
      {
        timeoutMs: 10000,
      },
    );
    burner = started.stdout.trim();
    await new Promise((r) => setTimeout(r, 500));
    const loaded = await page.evaluate(echoTimes, KEYS);
    // One echo measurement: a statistic of the loaded run against the same statistic idle.
    const p95 = (v: number[]) => percentile(v, 95);
    const echo = (
      what: string,
      times: 'drawn' | 'parsed',
      stat: (v: number[]) => number,
      extra: Partial<Measurement> = {},
    ) =>
      ctx.add({
        name: `ui: keystroke echo ${what} (busy loop on web)`,
        value: round(stat(loaded[times]), 1),
        unit: 'ms',
        baseline: round(stat(idle[times]), 1),
        baselineName: 'idle world',
        ...extra,
      });
    echo('on screen p95', 'drawn', p95, {
      target: 30,
      targetOn: 'value',
      samples: loaded.drawn.map((v) => round(v, 1)),
    });
    echo('parsed p95', 'parsed', p95, { samples: loaded.parsed.map((v) => round(v, 1)) });
    echo('parsed median', 'parsed', median);

    // 3. The server's memory with those 4 terminals open, each having printed something.
    for (const node of ['alice', 'home', 'web', 'isp']) {
      await page.click(`.term-tab[data-node="${node}"] span`);
      await page.keyboard.type('ls -la /etc | head -50\n');
    }
    await new Promise((r) => setTimeout(r, 1500));
    ctx.add({
      name: 'ui: server memory (RSS) with 4 terminals',
      value: round(rssMb(server.pid as number), 1),
      unit: 'MB',
      baseline: round(idleRss, 1),
      baselineName: 'no page open',
      target: 80,
      targetOn: 'value',
    });
    await context.close();
  } finally {
    if (burner && /^\d+$/.test(burner))
      await ctx.driver
        .exec(containerName(ctx.warm, 'web'), ['kill', burner], { timeoutMs: 10000 })
        .catch(() => undefined);
    await browser.close();
    await Promise.all(servers.map((s) => stopCliServer(s.child)));
  }
}
