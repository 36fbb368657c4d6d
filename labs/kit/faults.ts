// Builders for the changes a lab makes to its world at start (Fault: a script run as root on a node).
import type { Fault } from '../../orchestrator/labs/lab.js';
import { q } from '../../checks/probes.js';

/** A shell here-document that writes `content` to `path` exactly (no expansion inside). */
export function heredoc(path: string, content: string, mode?: string): string {
  let tag = 'HURRYNET_EOF';
  while (content.includes(tag)) tag += '_';
  const body = content.endsWith('\n') ? content : `${content}\n`;
  return [
    `mkdir -p "$(dirname ${q(path)})"`,
    `cat > ${q(path)} <<'${tag}'\n${body}${tag}`,
    ...(mode ? [`chmod ${mode} ${q(path)}`] : []),
  ].join('\n');
}

/** A fault that writes one file on a node. */
export function writeFile(node: string, path: string, content: string, description: string, mode?: string): Fault {
  return { node, description, script: heredoc(path, content, mode) };
}

/**
 * The pattern with its first letter in brackets ("[s]treamer"): it still matches the service's
 * command line, but no longer the fault script's own, which would hold the pattern as written
 * (pkill -f would otherwise kill the very script that runs it).
 */
export function notItself(pattern: string): string {
  const i = pattern.search(/[A-Za-z0-9]/);
  return i < 0 ? pattern : `${pattern.slice(0, i)}[${pattern[i]}]${pattern.slice(i + 1)}`;
}

/**
 * A fault that (re)starts a service in the background and waits until it listens, so that the
 * lab counts as started only when the service answers. `start` is a shell command line.
 */
export function startService(
  node: string,
  description: string,
  opts: {
    start: string;
    proto?: 'tcp' | 'udp';
    port: number;
    stopPattern?: string;
    waitSeconds?: number;
    log?: string;
  },
): Fault {
  const proto = opts.proto ?? 'tcp';
  const wait = opts.waitSeconds ?? 20;
  const lines = [
    ...(opts.stopPattern ? [`pkill -f ${q(notItself(opts.stopPattern))} 2>/dev/null || true`] : []),
    // The command travels in base64, so that the script's own text never matches stopPattern.
    `setsid sh -c "$(echo ${Buffer.from(opts.start).toString('base64')} | base64 -d)" >>${q(opts.log ?? '/dev/null')} 2>&1 < /dev/null &`,
    `for _ in $(seq 1 ${wait * 10}); do listening ${proto} ${opts.port} && exit 0; sleep 0.1; done`,
    `echo "${description}: nothing listens on ${proto} port ${opts.port} after ${wait} s" >&2; exit 1`,
  ];
  return { node, description, script: lines.join('\n') };
}
