// Builds the browser page of `hurrynet ui` into dist/ui: main.ts bundled with esbuild (xterm.js
// and its fit addon inside), style.css with xterm's own styles, and index.html. npm ci runs it
// (prepare), so that the README's two commands stay the whole set-up.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const page = join(root, 'orchestrator', 'ui', 'page');
const out = join(root, 'dist', 'ui');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [
    { in: join(page, 'main.ts'), out: 'main' },
    { in: join(page, 'style.css'), out: 'main' },
    // The class server's teacher page (hurrynet serve).
    { in: join(page, 'teacher.ts'), out: 'teacher' },
    // With xterm's styles, for the teacher's read-only watch view.
    { in: join(page, 'teacher.css'), out: 'teacher' },
  ],
  outdir: out,
  bundle: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
  // The page's tsconfig, not the server's (DOM, bundler resolution).
  tsconfig: join(page, 'tsconfig.json'),
});
for (const f of ['index.html', 'teacher.html']) copyFileSync(join(page, f), join(out, f));
process.stdout.write(`hurrynet: built the browser page into ${out}\n`);
