import { Option, type Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { DockerUnavailableError } from '../../errors.js';
import { labWorld, runningLab } from '../../labs/labrun.js';
import { graphMermaid, graphSvg, graphText } from '../../world/graph.js';
import { canonicalWorld, type World } from '../../world/world.js';
import type { Cli } from '../context.js';

/** The world the instance runs (a lab may change it), or the canonical one when none runs. */
async function worldOf(cli: Cli, instance: string): Promise<World> {
  try {
    const running = await runningLab(cli.driver(), instance);
    return running ? labWorld(running.lab, running.vars) : canonicalWorld;
  } catch (err) {
    // Without Docker nothing runs: the map of the free world still helps.
    if (err instanceof DockerUnavailableError) return canonicalWorld;
    throw err;
  }
}

export function register(program: Command, cli: Cli): void {
  program
    .command('graph')
    .description('print the topology of the world (text, SVG or Mermaid)')
    .addOption(cli.instanceOption())
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'svg', 'mermaid']).default('text'))
    .option('-o, --output <file>', 'write to a file instead of the terminal')
    .action(async (opts: { instance: string; format: 'text' | 'svg' | 'mermaid'; output?: string }) => {
      const render = { text: graphText, svg: graphSvg, mermaid: graphMermaid }[opts.format];
      const out = render(await worldOf(cli, opts.instance));
      const text = out.endsWith('\n') ? out : out + '\n';
      if (opts.output) {
        writeFileSync(opts.output, text);
        process.stdout.write(`wrote ${opts.format} topology to ${opts.output}\n`);
      } else process.stdout.write(text);
    });
}
