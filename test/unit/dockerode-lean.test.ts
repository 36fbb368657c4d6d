// dockerode's SSH and gRPC dependencies load at first use: the stand-in loads the real module at its
// first call and forwards to it, and the modules deferred are where it expects them, each a function.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFERRED, deferFunctionModule } from '../../orchestrator/runtime/dockerode-lean.js';

const here = createRequire(import.meta.url);

describe('dockerode-lean', () => {
  it('loads the real module at the first call, then forwards every call to it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hn-lean-'));
    const file = join(dir, 'fn.cjs');
    writeFileSync(
      file,
      'globalThis.__hnLeanLoads = (globalThis.__hnLeanLoads ?? 0) + 1;\n' +
        'module.exports = function (a, b) { return [this && this.tag, a + b]; };\n',
    );
    const require = createRequire(file);
    const loads = () => (globalThis as { __hnLeanLoads?: number }).__hnLeanLoads ?? 0;
    deferFunctionModule(file, require);
    const fn = require(file) as (this: unknown, a: number, b: number) => [unknown, number];
    expect(loads()).toBe(0);
    expect(fn.call({ tag: 't' }, 1, 2)).toEqual(['t', 3]);
    expect(fn(2, 3)).toEqual([undefined, 5]);
    expect(loads()).toBe(1);
    // Later requires get the real module.
    expect(require(file)).not.toBe(fn);
  });

  it('finds each deferred module, and each exports a function', () => {
    for (const { from, module } of DEFERRED) {
      const file = createRequire(here.resolve(from)).resolve(module);
      // In a process of its own: this one may hold the stand-in.
      const kind = execFileSync(
        process.execPath,
        ['-e', `process.stdout.write(typeof require(${JSON.stringify(file)}))`],
        {
          encoding: 'utf8',
        },
      );
      expect(kind, module).toBe('function');
    }
  });
});
