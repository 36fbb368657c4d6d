#!/usr/bin/env node
// Entry point: runs the compiled CLI, compiling first when the TypeScript sources are newer
// (so a fresh checkout or an edited source never runs stale code).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';

// The page's server (hurrynet ui, lab --web) is long-lived. V8 doubles a process's young generation
// (up to 16 MB a half) each time a scavenge finds much alive, as while the modules load at start,
// and keeps it: kept at its first 1 MB a half while the server starts, the server is about 5 MB
// smaller and stays so with terminals open (docs/benchmarks.md). V8 reads the factor at each
// growth, so setting it here, before anything loads, works; the server sets V8's default back once
// it is up (commands/ui.ts), and the other commands never change it.
const [, , command, ...rest] = process.argv;
if (command === 'ui' || (command === 'lab' && rest.includes('--web')))
  setFlagsFromString('--semi-space-growth-factor=1');

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'orchestrator', 'cli', 'main.js');

function newest(dir, pattern = /\.ts$/) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p, pattern));
    else if (pattern.test(e.name)) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

const sources = Math.max(...['orchestrator', 'checks', 'labs', 'bench'].map((d) => newest(join(root, d))));
if (!existsSync(entry) || statSync(entry).mtimeMs < sources) {
  process.stderr.write('hurrynet: compiling TypeScript sources...\n');
  try {
    execFileSync(
      process.execPath,
      [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')],
      { stdio: 'inherit' },
    );
  } catch {
    process.stderr.write('hurrynet: error: the TypeScript sources do not compile (see above). Did you run npm ci?\n');
    process.exit(1);
  }
}
// The browser page (hurrynet ui) likewise, when its sources are newer than the built page.
const page = join(root, 'orchestrator', 'ui', 'page');
const built = join(root, 'dist', 'ui', 'main.js');
const pageSources = Math.max(newest(page, /\.(ts|css|html)$/), newest(join(root, 'orchestrator', 'ui')));
if (existsSync(page) && (!existsSync(built) || statSync(built).mtimeMs < pageSources)) {
  process.stderr.write('hurrynet: building the browser page...\n');
  try {
    execFileSync(process.execPath, [join(root, 'scripts', 'build-ui.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
  } catch {
    process.stderr.write(
      'hurrynet: warning: the browser page could not be built (hurrynet ui needs it; npm ci builds it)\n',
    );
  }
}
const { main } = await import(entry);
await main(process.argv);
