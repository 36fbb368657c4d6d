// Imported (for its effect) before dockerode. As it loads, dockerode loads an SSH client (ssh2, for
// ssh:// engines) and a gRPC stack (@grpc/grpc-js and protobufjs, for BuildKit sessions), about
// 8 MB of resident memory in every hurrynet process, though hurrynet talks to a local socket and
// builds without BuildKit sessions. Both reach dockerode through one module that exports one
// function: a stand-in for each in require's cache loads the real module at its first call, so an
// ssh:// engine or a session still works, and the others never pay for them.
import { createRequire, Module } from 'node:module';

/** The modules deferred, each resolved from the package that requires it. */
export const DEFERRED: readonly { from: string; module: string }[] = [
  { from: 'dockerode', module: 'dockerode/lib/session.js' },
  { from: 'dockerode', module: 'docker-modem/lib/ssh.js' },
];

type Fn = (...args: unknown[]) => unknown;

/** Puts a stand-in for `file` (a CommonJS module exporting a function) in require's cache. */
export function deferFunctionModule(file: string, require: NodeJS.Require): void {
  if (require.cache[file]) return;
  let real: Fn | undefined;
  const stub = new Module(file);
  stub.filename = file;
  stub.loaded = true;
  stub.exports = function deferred(this: unknown, ...args: unknown[]): unknown {
    if (!real) {
      delete require.cache[file];
      real = require(file) as Fn;
    }
    return real.apply(this, args);
  };
  require.cache[file] = stub;
}

const here = createRequire(import.meta.url);
for (const { from, module } of DEFERRED) {
  try {
    const require = createRequire(here.resolve(from));
    deferFunctionModule(require.resolve(module), require);
  } catch {
    /* laid out otherwise (another version): loaded as it is, as before */
  }
}
