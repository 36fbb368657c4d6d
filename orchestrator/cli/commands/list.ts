import type { Command } from 'commander';
import { loadLabs } from '../../labs/lab.js';
import { bold, dim, printJson, table } from '../ui.js';

export function register(program: Command): void {
  program
    .command('list')
    .description('list the labs with number, slug, title, topics and estimated time')
    .option('--json', 'print as JSON', false)
    .action(async (opts: { json: boolean }) => {
      const labs = await loadLabs();
      if (opts.json)
        return printJson(
          labs.map(({ id, slug, title, topics, minutes, goal }) => ({ id, slug, title, topics, minutes, goal })),
        );
      const rows = [['lab', 'slug', 'title', 'time', 'topics'].map((h) => bold(h))];
      for (const l of labs) rows.push([l.id, l.slug, l.title, `${l.minutes} min`, dim(l.topics.join(', '))]);
      process.stdout.write(
        table(rows) + `\n\nStart one with: npm run lab <number>   (for example: npm run lab ${labs[0]?.number ?? 1})\n`,
      );
    });
}
