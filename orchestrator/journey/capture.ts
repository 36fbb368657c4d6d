// The journey's captures: one sidecar in every node's network namespace (the project's own
// tcpdump, not the learner's), one tcpdump per interface so that every frame keeps both MACs, and
// the routers' state the matcher and the diagnosis read afterwards (conntrack, firewall counters
// before and after, routes, neighbours). Bounded in packets, bytes and time.
import { randomBytes } from 'node:crypto';
import { Driver } from '../runtime/driver.js';
import { instanceObjects } from '../runtime/engine.js';
import { imageSet } from '../runtime/images.js';
import { loadScale } from '../runtime/load.js';
import { LABEL, PROJECT } from '../runtime/plan.js';

export interface CaptureLimits {
  /** Packets per interface; tcpdump stops at this count. */
  maxPackets: number;
  /** Bytes kept of each frame: headers and the start of the payload (summaries, digests). */
  snapLength: number;
  /** A capture ends by itself after this long, whatever happens to us. */
  maxSeconds: number;
}

export const DEFAULT_LIMITS: CaptureLimits = { maxPackets: 4000, snapLength: 320, maxSeconds: 120 };

export interface InterfaceInfo {
  node: string;
  /** The interface name, which is the story link's name on lab nodes. */
  iface: string;
  mac: string;
  mtu: number;
  /** Addresses with prefix length, e.g. 192.168.1.1/24. */
  addresses: string[];
}

export interface InterfaceCapture extends InterfaceInfo {
  pcap: Buffer;
  /** tcpdump's own counts; a kernel drop or the packet limit means the capture is not complete. */
  captured: number;
  dropped: number;
  limitReached: boolean;
}

export interface NodeState {
  node: string;
  interfaces: InterfaceInfo[];
  /** `conntrack -L` after the command: the NAT translations the node made. */
  conntrack: string;
  /** `iptables-save -c` before and after: whose counters rose. */
  firewallBefore: string;
  firewallAfter: string;
  routes: string;
  rules: string;
  neighbours: string;
  /** Interfaces whose capture could not start (named, so the journey can say what it cannot see). */
  failed: string[];
  /** tcpdump's last word for each failed interface, when it said one. */
  reasons?: Record<string, string>;
}

export interface CaptureSet {
  captures: InterfaceCapture[];
  nodes: NodeState[];
  limits: CaptureLimits;
}

export interface RunningCapture {
  nodes: string[];
  /** Stops every capture (after graceMs for late packets) and reads what they saw. */
  stop(graceMs: number): Promise<CaptureSet>;
  /** Runs a script in a node's capture sidecar (the grader's binaries, the node's namespace). */
  run(node: string, script: string): Promise<string>;
  /** Removes the sidecars; safe to call twice and after a failed start. */
  remove(): Promise<void>;
}

const DIR = '/tmp/hn-journey';
const MARK = '@@hn';

export interface StartOptions {
  /** One deadline for all the captures of a node to be listening, and again for the retry. */
  waitSeconds: number;
  /** Where the captures are kept, and where the interfaces are listed (other than in tests). */
  dir?: string;
  net?: string;
}

/**
 * The sidecar's start script: record the interfaces, snapshot the firewall, start one tcpdump per
 * interface, and return only once every one is listening or has definitively failed, so that the
 * command runs with no packet missed. It waits on the interfaces it started, never on a glob of
 * their files: a background job's redirections are made by its forked child, which a busy machine
 * may not have run yet (the glob then matched nothing and the capture was called failed as "*").
 */
export function startScript(limits: CaptureLimits, opts: StartOptions): string {
  const dir = opts.dir ?? DIR;
  const net = opts.net ?? '/sys/class/net';
  const wait = Math.max(1, Math.ceil(opts.waitSeconds));
  return [
    `mkdir -p ${dir}`,
    `iptables-save -c > ${dir}/fw.before 2>/dev/null || true`,
    // --immediate-mode (with a 4 MB ring, so bursts fit): without it the kernel hands packets over
    // in blocks up to a second late, and a capture stopped right after a short command loses them.
    // -U writes each packet as it comes, so a stop mid-run loses nothing already seen. -Z root: the
    // sidecar has no CAP_KILL, so a tcpdump that dropped to its own user could not be stopped.
    `cap() {`,
    `  setsid nohup timeout ${limits.maxSeconds} tcpdump -Z root -U --immediate-mode -B 4096 -nn -s ${limits.snapLength} -c ${limits.maxPackets} -i "$1" -w - > ${dir}/$1.pcap 2> ${dir}/$1.err < /dev/null &`,
    `  echo $! > ${dir}/$1.pid`,
    `}`,
    `listening() { grep -q 'listening on' ${dir}/$1.err 2>/dev/null; }`,
    // A job not yet run counts as alive: its files may not exist yet, and it may still listen.
    `alive() { kill -0 "$(cat ${dir}/$1.pid)" 2>/dev/null; }`,
    `settle() {`,
    `  local end=$((SECONDS + ${wait})) i pending`,
    `  while :; do`,
    `    pending=; for i in $ifs; do listening "$i" || ! alive "$i" || pending=1; done`,
    `    [ -z "$pending" ] && return; (( SECONDS >= end )) && return; sleep 0.05`,
    `  done`,
    `}`,
    `why() { tail -n 1 ${dir}/$1.err 2>/dev/null | tr -s '\\n\\t' '  '; }`,
    `ifs=`,
    `for i in $(ls ${net}); do`,
    `  [ "$i" = lo ] && continue`,
    `  echo "${MARK} if $i $(cat ${net}/$i/address) $(cat ${net}/$i/mtu)"`,
    `  ifs="$ifs $i"; cap "$i"`,
    `done`,
    `ip -o -4 addr show | awk '{ print "${MARK} addr", $2, $4 }'`,
    `settle`,
    // One more start for a capture that ended without listening (a busy machine's passing failure);
    // one still starting gets the second wait as well.
    `for i in $ifs; do listening "$i" || alive "$i" || { echo "${MARK} retry $i $(why "$i")"; cap "$i"; }; done`,
    `settle`,
    // What never listened is named with tcpdump's last word, stopped, and its files removed.
    `for i in $ifs; do`,
    `  listening "$i" && continue`,
    `  echo "${MARK} failed $i $(why "$i")"`,
    `  kill -TERM "$(cat ${dir}/$i.pid)" 2>/dev/null; rm -f ${dir}/$i.pid ${dir}/$i.err ${dir}/$i.pcap`,
    `done`,
  ].join('\n');
}

/** The stop script: end the captures, then print the state and every capture (base64) in marked sections. */
export function stopScript(): string {
  return [
    `for p in ${DIR}/*.pid; do kill -TERM "$(cat "$p")" 2>/dev/null; done`,
    // Done when tcpdump has printed its counts (its parent, a zombie nobody reaps, says nothing).
    `for e in ${DIR}/*.err; do for t in $(seq 1 100); do grep -q 'packets\\? captured' "$e" && break; sleep 0.05; done; done`,
    `echo "${MARK} section conntrack"; conntrack -L 2>/dev/null`,
    `echo "${MARK} section fwbefore"; cat ${DIR}/fw.before`,
    `echo "${MARK} section fwafter"; iptables-save -c 2>/dev/null`,
    `echo "${MARK} section routes"; ip -4 route show table all 2>/dev/null | grep -v -E '^(local|broadcast) '`,
    `echo "${MARK} section rules"; ip -4 rule show`,
    `echo "${MARK} section neigh"; ip -4 neigh show`,
    `for f in ${DIR}/*.pcap; do i=$(basename "$f" .pcap)`,
    `  echo "${MARK} stats $i $(grep -Eo '^[0-9]+ packets? captured' ${DIR}/$i.err | grep -Eo '^[0-9]+') $(grep -Eo '^[0-9]+ packets? dropped by kernel' ${DIR}/$i.err | grep -Eo '^[0-9]+')"`,
    `  echo "${MARK} pcap $i"; base64 -w 0 "$f"; echo`,
    `done`,
  ].join('\n');
}

/** Splits a stop script's output into its sections and captures. */
export function parseStop(
  node: string,
  out: string,
  interfaces: InterfaceInfo[],
  limits: CaptureLimits,
): {
  state: Omit<NodeState, 'interfaces' | 'failed' | 'firewallBefore'> & { firewallBefore: string };
  captures: InterfaceCapture[];
} {
  const sections = new Map<string, string[]>();
  const stats = new Map<string, { captured: number; dropped: number }>();
  const pcaps = new Map<string, Buffer>();
  let current: string[] | undefined;
  let pcapOf: string | undefined;
  for (const line of out.split('\n')) {
    if (pcapOf !== undefined) {
      pcaps.set(pcapOf, Buffer.from(line.trim(), 'base64'));
      pcapOf = undefined;
      continue;
    }
    const m = new RegExp(`^${MARK} (section|stats|pcap) (\\S+)(?: (\\d*) ?(\\d*))?`).exec(line);
    if (!m) {
      current?.push(line);
      continue;
    }
    const [, kind, name, captured, dropped] = m as unknown as [
      string,
      string,
      string,
      string | undefined,
      string | undefined,
    ];
    if (kind === 'section') sections.set(name, (current = []));
    else if (kind === 'stats') {
      stats.set(name, { captured: Number(captured || 0), dropped: Number(dropped || 0) });
      current = undefined;
    } else pcapOf = name;
  }
  const text = (name: string) => (sections.get(name) ?? []).join('\n').trim();
  const captures = interfaces.map((info) => {
    const s = stats.get(info.iface) ?? { captured: 0, dropped: 0 };
    return {
      ...info,
      pcap: pcaps.get(info.iface) ?? Buffer.alloc(0),
      captured: s.captured,
      dropped: s.dropped,
      limitReached: s.captured >= limits.maxPackets,
    };
  });
  return {
    state: {
      node,
      conntrack: text('conntrack'),
      firewallBefore: text('fwbefore'),
      firewallAfter: text('fwafter'),
      routes: text('routes'),
      rules: text('rules'),
      neighbours: text('neigh'),
    },
    captures,
  };
}

/** Reads the start script's interface lines; a failed capture keeps tcpdump's last word as its reason. */
export function parseStart(
  node: string,
  out: string,
): { interfaces: InterfaceInfo[]; failed: string[]; reasons: Record<string, string> } {
  const interfaces: InterfaceInfo[] = [];
  const failed: string[] = [];
  const reasons: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const [mark, kind, name, a, b, ...rest] = line.trim().split(/\s+/);
    if (mark !== MARK || !name) continue;
    if (kind === 'if' && a) interfaces.push({ node, iface: name, mac: a.toLowerCase(), mtu: Number(b), addresses: [] });
    if (kind === 'addr' && a) interfaces.find((i) => i.iface === name)?.addresses.push(a);
    if (kind === 'failed') {
      failed.push(name);
      const reason = [a, b, ...rest].filter((x) => x !== undefined).join(' ');
      if (reason) reasons[name] = reason;
    }
  }
  return { interfaces: interfaces.filter((i) => !failed.includes(i.iface)), failed, reasons };
}

/** Starts the captures on every node of an instance (nodes a lab adds included). */
export async function startCaptures(
  driver: Driver,
  instance: string,
  limits: CaptureLimits = DEFAULT_LIMITS,
): Promise<RunningCapture> {
  const { containers } = await instanceObjects(driver, instance);
  const nodes = containers.filter(
    (c) => c.labels[LABEL.kind] === 'node' && c.labels[LABEL.node] && c.state === 'running',
  );
  if (!nodes.length) throw new Error(`instance "${instance}" has no running nodes`);
  // A busy machine answers slowly: our own time limits grow with the load, as the grader's do.
  const scale = loadScale();
  const sidecars: { node: string; name: string }[] = [];
  const started = new Map<string, ReturnType<typeof parseStart>>();
  // One deadline for all of a node's captures to listen, again for a retry, then the exec's own margin.
  const waitSeconds = 15 * scale;
  const remove = async () => {
    const names = sidecars.splice(0).map((s) => s.name);
    await Promise.all(names.map((n) => driver.removeContainer(n).catch(() => undefined)));
  };
  try {
    await Promise.all(
      nodes.map(async (c) => {
        const node = c.labels[LABEL.node] as string;
        const name = `${PROJECT}-${instance}-journey-${node}-${randomBytes(3).toString('hex')}`;
        sidecars.push({ node, name });
        const labels = Driver.projectLabels({ [LABEL.instance]: instance, [LABEL.kind]: 'probe', [LABEL.node]: node });
        await driver.startSidecar(name, c.name, imageSet().base, labels, limits.maxSeconds + 60, ['SETUID', 'SETGID']);
        const r = await driver.exec(name, ['bash', '-c', startScript(limits, { waitSeconds })], {
          timeoutMs: (2 * waitSeconds + 20 * scale) * 1000,
        });
        started.set(node, parseStart(node, r.stdout));
      }),
    );
  } catch (err) {
    await remove();
    throw err;
  }
  return {
    nodes: [...started.keys()].sort(),
    async stop(graceMs: number) {
      await new Promise((r) => setTimeout(r, graceMs));
      const results = await Promise.all(
        sidecars.map(async ({ node, name }) => {
          const info = started.get(node) ?? { interfaces: [], failed: [], reasons: {} };
          const r = await driver.exec(name, ['bash', '-c', stopScript()], {
            timeoutMs: 30000 * scale,
            maxOutputBytes: 256 * 1024 * 1024,
          });
          const { state, captures } = parseStop(node, r.stdout, info.interfaces, limits);
          const { interfaces, failed, reasons } = info;
          return { state: { ...state, interfaces, failed, reasons }, captures };
        }),
      );
      return { captures: results.flatMap((r) => r.captures), nodes: results.map((r) => r.state), limits };
    },
    async run(node: string, script: string) {
      const sidecar = sidecars.find((x) => x.node === node);
      if (!sidecar) return '';
      const r = await driver.exec(sidecar.name, ['bash', '-c', script], { timeoutMs: 15000 * scale });
      return r.stdout + r.stderr;
    },
    remove,
  };
}
