// Programs a lab runs on its nodes (a streamer, a server it restarts, a capture): started in the
// background until they listen, their output read back whole, and read once per grading run.
// Labs 09 and 11 use these; the program files themselves live in labs/NN-slug/files/<node>/.
import { gunzipSync } from 'node:zlib';
import type { Fault } from '../../orchestrator/labs/lab.js';
import { q } from '../../checks/probes.js';
import type { CheckContext, Evidence, Host } from '../../checks/types.js';

/** A socket a program must have open before the lab counts as started. */
export interface Listener {
  proto: 'tcp' | 'udp';
  port: number;
}

export interface ProgramStart {
  /** The command line that starts the program (it may fork into the background itself). */
  start: string;
  /** Every socket it opens; the start waits for all of them. */
  listens: Listener[];
  /** A command that stops the running copy first; the start then waits until its sockets close. */
  stop?: string;
  /** Where its output goes (its folder is made); the tail of it explains a failed start. */
  log?: string;
  waitSeconds?: number;
}

/**
 * The shell lines that (re)start a program in the background and wait until it listens on every
 * socket given. They end the script (exit 0 or 1), so they come last.
 */
export function startScript(opts: ProgramStart): string {
  const steps = (opts.waitSeconds ?? 15) * 10;
  const log = opts.log ?? '/dev/null';
  const any = opts.listens.map((l) => `listening ${l.proto} ${l.port}`).join(' || ');
  const all = opts.listens.map((l) => `listening ${l.proto} ${l.port}`).join(' && ');
  const sockets = opts.listens.map((l) => `${l.proto} ${l.port}`).join(' and ');
  return [
    // A stopped program can hold its sockets a moment: a start before they close would look done.
    ...(opts.stop
      ? [`${opts.stop} 2>/dev/null || true`, `for _ in $(seq 1 ${steps}); do { ${any}; } || break; sleep 0.1; done`]
      : []),
    ...(opts.log ? [`mkdir -p "$(dirname ${q(opts.log)})"`] : []),
    `setsid nohup sh -c ${q(opts.start)} >>${q(log)} 2>&1 </dev/null &`,
    `for _ in $(seq 1 ${steps}); do ${all} && exit 0; sleep 0.1; done`,
    `echo "nothing listens on ${sockets} after ${steps / 10} s${opts.log ? `: $(tail -n 5 ${q(opts.log)})` : ''}" >&2`,
    'exit 1',
  ].join('\n');
}

/** A fault that (re)starts a program on a node, done when it listens on every socket given. */
export function startProgram(node: string, description: string, opts: ProgramStart): Fault {
  return { node, description, script: startScript(opts) };
}

const CHUNK = 14000;
/** Only the newest part of a file is read (older streams or sessions fall off the front). */
const MAX_BYTES = 4_000_000;

export interface LargeFile {
  ok: boolean;
  text: string;
  evidence: Evidence;
  /** The read failed on the way (not for want of the file): the next attempt may succeed. */
  transient?: boolean;
}

/**
 * Reads a possibly large text file a program wrote on a node: gzip and base64 in chunks, each
 * under the evidence cap. latin1 keeps every byte of a capture's raw payload as one character.
 */
export async function readLarge(host: Host, path: string, encoding: 'utf8' | 'latin1' = 'utf8'): Promise<LargeFile> {
  const command = `read ${path} (the grader parses it itself)`;
  const ev = (exitCode: number, output: string): Evidence => ({ where: host.where, command, exitCode, output });
  const head = await host.run(
    `f=${q(path)}; [ -f "$f" ] || { echo "no such file: $f"; exit 3; }; t=$(mktemp); tail -c ${MAX_BYTES} -- "$f" | gzip -1 -n -c > "$t" && echo "$t $(stat -c %s "$t") $(stat -c %s "$f")"`,
    10000,
  );
  if (head.exitCode === 3) return { ok: false, text: '', evidence: ev(3, head.output) };
  const m = /^(\S+) (\d+) (\d+)$/m.exec(head.output);
  if (head.exitCode !== 0 || !m)
    return { ok: false, text: '', evidence: ev(head.exitCode, head.output), transient: true };
  const [, tmp, gzSize, rawSize] = m as unknown as [string, string, string, string];
  try {
    const offsets: number[] = [];
    for (let o = 0; o < Number(gzSize); o += CHUNK) offsets.push(o);
    const parts = await Promise.all(
      offsets.map((o) => host.run(`tail -c +${o + 1} -- ${tmp} | head -c ${CHUNK} | base64 -w0`, 10000)),
    );
    const bad = parts.find((p) => p.exitCode !== 0);
    if (bad) return { ok: false, text: '', evidence: ev(bad.exitCode, bad.output), transient: true };
    const text = gunzipSync(Buffer.concat(parts.map((p) => Buffer.from(p.output.trim(), 'base64')))).toString(encoding);
    return { ok: true, text, evidence: ev(0, `${rawSize} bytes`) };
  } catch (err) {
    return {
      ok: false,
      text: '',
      evidence: ev(1, `could not read the copy: ${(err as Error).message}`),
      transient: true,
    };
  } finally {
    await host.run(`rm -f -- ${tmp}`, 5000);
  }
}

/**
 * One reading shared by all checks of a grading run (one context). A reading that throws, or that
 * `keep` turns down (the grader could not look), is forgotten, so the next attempt reads again.
 */
export function oncePerRun<T>(
  read: (ctx: CheckContext) => Promise<T>,
  keep: (value: T) => boolean = () => true,
): (ctx: CheckContext) => Promise<T> {
  const cache = new WeakMap<CheckContext, Promise<T>>();
  return (ctx) => {
    let reading = cache.get(ctx);
    if (!reading) {
      const mine = read(ctx);
      reading = mine;
      cache.set(ctx, mine);
      const forget = () => {
        if (cache.get(ctx) === mine) cache.delete(ctx);
      };
      mine.then((value) => (keep(value) ? undefined : forget()), forget);
    }
    return reading;
  };
}
