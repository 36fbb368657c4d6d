#!/usr/bin/env node
// Entry point: runs the compiled CLI, compiling first when the TypeScript sources are newer
// (so a fresh checkout or an edited source never runs stale code).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'orchestrator', 'cli', 'main.js');

function newest(dir) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
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
const { main } = await import(entry);
await main(process.argv);
