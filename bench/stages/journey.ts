// The packet journey on the warm world: how long after the command ends the journey is printed
// (captures stopped, read, matched, routers asked, rendered), what capturing costs a 1 MB
// download against the same download without captures (in the same run), and the memory the
// journey takes in our process.
import { performance } from 'node:perf_hooks';
import { journeyDocument } from '../../orchestrator/journey/document.js';
import { runJourney } from '../../orchestrator/journey/run.js';
import { renderTerminal } from '../../orchestrator/journey/views/terminal.js';
import { containerName } from '../../orchestrator/runtime/plan.js';
import { median, round, type StageContext } from './context.js';

const WEB = ['curl', '-sS', '-o', '/dev/null', 'http://web.bob.example/'];
const MEGABYTE = ['curl', '-sS', '-o', '/dev/null', 'http://web.bob.example/bytes/1000000'];

async function plainSeconds(ctx: StageContext, command: string[]): Promise<number> {
  const t0 = performance.now();
  const r = await ctx.driver.exec(containerName(ctx.warm, 'alice'), command, { timeoutMs: 60000 });
  if (r.exitCode !== 0) throw new Error(`bench: ${command.join(' ')} on alice failed: ${r.stderr.trim()}`);
  return (performance.now() - t0) / 1000;
}

/** One journey: seconds of the command under capture, seconds from its end to the printed text, peak RSS growth. */
async function journeyOnce(
  ctx: StageContext,
  command: string[],
): Promise<{ command: number; after: number; mb: number }> {
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 25);
  try {
    const run = await runJourney(ctx.driver, { instance: ctx.warm, from: 'alice', command, signal: ctx.signal });
    const t0 = performance.now();
    renderTerminal(journeyDocument(run), { width: 120, verbose: false, max: 60 });
    const render = (performance.now() - t0) / 1000;
    await run.removed;
    if (run.exitCode !== 0) throw new Error(`bench: the journey's ${command.join(' ')} failed: ${run.stderr.trim()}`);
    return {
      command: run.seconds.command,
      after: run.seconds.stop + render,
      mb: (Math.max(peak, process.memoryUsage().rss) - rss0) / 2 ** 20,
    };
  } finally {
    clearInterval(sampler);
  }
}

export async function journeyStage(ctx: StageContext): Promise<void> {
  const n = Math.max(3, ctx.settings.repeat);
  ctx.progress('journey: the web story and a 1 MB download, with and without captures');
  const webPlain: number[] = [];
  const web: Awaited<ReturnType<typeof journeyOnce>>[] = [];
  const mbPlain: number[] = [];
  const mb: Awaited<ReturnType<typeof journeyOnce>>[] = [];
  // Interleaved, so that a change in the machine's load hits both sides alike.
  for (let i = 0; i < n; i++) {
    ctx.check();
    webPlain.push(await plainSeconds(ctx, WEB));
    web.push(await journeyOnce(ctx, WEB));
    mbPlain.push(await plainSeconds(ctx, MEGABYTE));
    mb.push(await journeyOnce(ctx, MEGABYTE));
  }
  ctx.add({
    name: 'journey web: printed after the command ends',
    value: round(median(web.map((r) => r.after)), 2),
    unit: 's',
    baseline: round(median(webPlain), 2),
    baselineName: 'the command alone',
    target: 1,
    targetOn: 'value',
    samples: web.map((r) => round(r.after, 2)),
  });
  ctx.add({
    name: 'journey: 1 MB download under capture',
    value: round(median(mb.map((r) => r.command)), 3),
    unit: 's',
    baseline: round(median(mbPlain), 3),
    baselineName: 'without capture',
    target: 1.2,
    targetOn: 'ratio',
    samples: mb.map((r) => round(r.command, 3)),
  });
  ctx.add({
    name: 'journey: memory (peak RSS growth)',
    value: round(Math.max(...[...web, ...mb].map((r) => r.mb)), 1),
    unit: 'MB',
    target: 100,
    targetOn: 'value',
  });
}
