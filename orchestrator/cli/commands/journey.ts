import { Option, type Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EXIT } from '../../errors.js';
import { DEFAULT_LIMITS } from '../../journey/capture.js';
import { journeyDocument } from '../../journey/document.js';
import { PRESETS, journeyCommand } from '../../journey/presets.js';
import { runJourney } from '../../journey/run.js';
import { renderHtml } from '../../journey/views/html.js';
import { renderTerminal } from '../../journey/views/terminal.js';
import { refuseStandby } from '../../runtime/standby.js';
import type { Cli } from '../context.js';
import { interruptible } from '../interrupt.js';
import { parseCount, parseSeconds } from '../options.js';
import { errRed, printJson, progressPrinter } from '../ui.js';

interface JourneyOpts {
  instance: string;
  from: string;
  verbose: boolean;
  max: number;
  json: boolean;
  html?: string;
  pcap?: string;
  timeout: number;
  active: boolean;
  maxPackets: number;
  quiet: boolean;
}

const STORIES = PRESETS.map((p) => `  ${p.usage.padEnd(16)} ${p.description}`).join('\n');

export function register(program: Command, cli: Cli): void {
  program
    .command('journey')
    .description(
      'follow packets hop by hop: capture on every interface of every node while a command runs, and show what each router changed and where a packet died',
    )
    .argument('[story...]', `a story (${PRESETS.map((p) => p.name).join(', ')}) or, after "--", any command`)
    .addOption(cli.instanceOption())
    .option('--from <node>', 'the node the command runs on', 'alice')
    .option('-v, --verbose', 'every header field at every hop', false)
    .addOption(new Option('--max <n>', 'show at most this many packets').default(60).argParser(parseCount))
    .option('--json', `print the journey as JSON (schema hurrynet.journey/1, see docs/journey.md)`, false)
    .option('--html <file>', 'also write a self-contained HTML page of the journey')
    .option('--pcap <dir>', 'also write the raw capture of every interface (for Wireshark)')
    .addOption(new Option('--timeout <seconds>', "the command's time limit").default(30).argParser(parseSeconds))
    .option('--active', 'ftp story: active mode (the server connects back)', false)
    .addOption(
      new Option('--max-packets <n>', 'capture at most this many packets per interface')
        .default(DEFAULT_LIMITS.maxPackets)
        .argParser(parseCount),
    )
    .option('-q, --quiet', 'no progress output', false)
    .addHelpText(
      'after',
      `\nStories:\n${STORIES}\n\nExamples:\n  hurrynet journey web\n  hurrynet journey dns web.bob.example\n  hurrynet journey --html trip.html -- curl -s http://198.51.100.80/\n  hurrynet journey --from home -- ping -c 1 198.51.100.53`,
    )
    .action(async (story: string[], opts: JourneyOpts, cmd: Command) => {
      refuseStandby(opts.instance);
      // Commander drops the "--" but keeps it in rawArgs (not in its types): a command after "--" is never a story.
      const raw = (cmd.parent as unknown as { rawArgs?: string[] } | null)?.rawArgs ?? process.argv;
      const explicit = raw.includes('--');
      const command = journeyCommand(story, { active: opts.active, explicit });
      const driver = cli.driver();
      const progress = progressPrinter(opts.quiet || opts.json);
      const run = await interruptible((signal) =>
        runJourney(driver, {
          instance: opts.instance,
          from: opts.from,
          command,
          signal,
          timeoutMs: opts.timeout * 1000,
          limits: { ...DEFAULT_LIMITS, maxPackets: opts.maxPackets, maxSeconds: Math.ceil(opts.timeout) + 60 },
          onProgress: progress,
        }),
      );
      const doc = journeyDocument(run);
      if (opts.pcap) {
        const dir = resolve(opts.pcap);
        mkdirSync(dir, { recursive: true });
        for (const c of run.captures.captures) writeFileSync(join(dir, `${c.node}-${c.iface}.pcap`), c.pcap);
        progress(`wrote ${run.captures.captures.length} capture files to ${dir}`);
      }
      if (opts.html) {
        writeFileSync(resolve(opts.html), renderHtml(doc));
        progress(`wrote ${resolve(opts.html)}`);
      }
      if (opts.json) printJson(doc);
      else {
        if (run.stdout.trim()) process.stdout.write(`${run.stdout.trimEnd()}\n`);
        if (run.stderr.trim()) process.stderr.write(`${run.stderr.trimEnd()}\n`);
        process.stdout.write(
          renderTerminal(doc, { width: process.stdout.columns ?? 120, verbose: opts.verbose, max: opts.max }),
        );
      }
      await run.removed;
      if (run.timedOut) {
        process.stderr.write(
          `${errRed('error')}: the command did not end within ${opts.timeout} s and was stopped (the journey above shows what happened until then; --timeout gives it longer)\n`,
        );
        process.exitCode = EXIT.failure;
        return;
      }
      process.exitCode = run.exitCode;
    });
}
