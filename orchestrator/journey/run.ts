// One journey: start the captures on every node, run the command on its node, stop the captures
// after a short grace for late packets, follow the packets, and ask the nodes where a packet died
// why it did. The sidecars are removed whatever happens.
import { decodeFrame } from '../../checks/packets/decode.js';
import { diagnose, diagnosisScript, type Diagnosis } from '../../checks/packets/diagnose.js';
import { follow, type Journey, type Observation } from '../../checks/packets/match.js';
import { parseConntrack } from '../../checks/packets/nat.js';
import { readPcapFile } from '../../checks/packets/pcap.js';
import type { Driver } from '../runtime/driver.js';
import { AbortedError } from '../errors.js';
import { nodeContainer } from '../runtime/engine.js';
import { DEFAULT_LIMITS, startCaptures, type CaptureLimits, type CaptureSet } from './capture.js';

export interface JourneyOptions {
  instance: string;
  from: string;
  command: string[];
  limits?: CaptureLimits;
  /** How long to keep capturing after the command ends (late answers, retransmissions). */
  graceMs?: number;
  /** The command's own time limit. */
  timeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (what: string) => void;
}

export interface JourneyRun {
  instance: string;
  from: string;
  command: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Set when the command hit its time limit (it was stopped; the journey shows what happened until then). */
  timedOut: boolean;
  startedAt: string;
  captures: CaptureSet;
  journey: Journey;
  diagnoses: Map<number, Diagnosis>;
  seconds: { start: number; command: number; stop: number };
  /** The sidecars' removal, started when the journey was read: print first, then await this. */
  removed: Promise<void>;
}

export class JourneyTimeout extends Error {}

export function observationsOf(set: CaptureSet): Observation[] {
  return set.captures.map((c) => {
    const file = c.pcap.length >= 24 ? readPcapFile(c.pcap) : { linkType: 1, records: [] };
    return {
      node: c.node,
      iface: c.iface,
      mac: c.mac,
      packets: file.records.map((r) => decodeFrame(file.linkType, r.data, r.time, r.wireLength)),
    };
  });
}

export function nodeViewsOf(set: CaptureSet) {
  return set.nodes.map((n) => ({
    node: n.node,
    addresses: n.interfaces.flatMap((i) => i.addresses.map((a) => a.split('/')[0] as string)),
    conntrack: parseConntrack(n.conntrack),
  }));
}

export async function runJourney(driver: Driver, opts: JourneyOptions): Promise<JourneyRun> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const progress = opts.onProgress ?? (() => undefined);
  const t0 = Date.now();
  const target = await nodeContainer(driver, opts.instance, opts.from);
  progress('starting a capture on every interface of every node');
  const capture = await startCaptures(driver, opts.instance, limits);
  let removed: Promise<void> | undefined;
  // Ctrl-C ends the wait at once (the command itself ends by its own time limit on the node).
  const interrupted = new Promise<never>((_, reject) => {
    if (opts.signal?.aborted) reject(new AbortedError());
    opts.signal?.addEventListener('abort', () => reject(new AbortedError()), { once: true });
  });
  interrupted.catch(() => undefined);
  try {
    if (opts.signal?.aborted) throw new AbortedError();
    const t1 = Date.now();
    progress(`running on ${opts.from}: ${opts.command.join(' ')}`);
    const timeoutMs = opts.timeoutMs ?? 30000;
    let timedOut = false;
    const command = driver
      .exec(target, ['timeout', '-s', 'KILL', String(Math.ceil(timeoutMs / 1000)), ...opts.command], {
        timeoutMs: timeoutMs + 10000,
      })
      .then(
        (x) => {
          timedOut = x.exitCode === 137;
          return x;
        },
        (err: Error) => {
          timedOut = true;
          return { exitCode: 124, stdout: '', stderr: err.message };
        },
      );
    const r = await Promise.race([command, interrupted]);
    const t2 = Date.now();
    progress('collecting the captures');
    const captures = await capture.stop(opts.graceMs ?? 300);
    const journey = follow(observationsOf(captures), nodeViewsOf(captures));
    const diagnoses = await diagnoseDrops(journey, captures, (node, script) => capture.run(node, script));
    // Nothing more is read from the sidecars: their removal overlaps the printing.
    removed = capture.remove();
    return {
      instance: opts.instance,
      from: opts.from,
      command: opts.command,
      exitCode: r.exitCode,
      stdout: r.stdout,
      stderr: r.stderr,
      timedOut,
      startedAt: new Date(t1).toISOString(),
      captures,
      journey,
      diagnoses,
      seconds: { start: (t1 - t0) / 1000, command: (t2 - t1) / 1000, stop: (Date.now() - t2) / 1000 },
      removed,
    };
  } finally {
    if (!removed) await capture.remove();
  }
}

/** Asks each node where a packet died what it knows: its route for the packet, forwarding, neighbours. */
export async function diagnoseDrops(
  journey: Journey,
  set: CaptureSet,
  run: (node: string, script: string) => Promise<string>,
): Promise<Map<number, Diagnosis>> {
  const out = new Map<number, Diagnosis>();
  const died = journey.trips.filter((t) => t.fate.kind === 'died');
  await Promise.all(
    died.map(async (t) => {
      const fate = t.fate;
      if (fate.kind !== 'died') return;
      const node = set.nodes.find((n) => n.node === fate.node);
      const last = t.sightings[t.sightings.length - 1]?.packet;
      if (!node || !last) return;
      const facts = await run(fate.node, diagnosisScript(last, fate.iface));
      out.set(t.id, diagnose(last, fate.iface, node, facts, journey));
    }),
  );
  return out;
}
