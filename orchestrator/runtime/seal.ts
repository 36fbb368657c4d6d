// The host seal: nothing a lab sends onto its bridges reaches the host's own network stack.
// A root learner has NET_RAW on a bridge whose other side is the host; without the seal they can
// hand-craft frames to the bridge's MAC and talk to the host's services (weak host model for IPv4,
// link-local IPv6, ARP answers). Bridged traffic between the lab's containers never passes INPUT,
// so the rules below do not touch the lab. The decision and its limits: docs/seal.md.
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Driver } from './driver.js';
import { imageSet } from './images.js';
import { BRIDGE_PREFIX, LABEL, projectLabelValue } from './plan.js';

export { BRIDGE_PREFIX, bridgeName } from './plan.js';

export function newBridgeSalt(): string {
  return randomBytes(6).toString('hex');
}

export type RuleState = 'yes' | 'no' | 'n/a';
export interface BridgeSeal {
  name: string;
  /** The host answers no ARP on it. */
  noarp: boolean;
  /** Addresses the host holds on it (any family): the seal wants none. */
  addresses: string[];
  /** The bridge was not found (for example removed meanwhile). */
  missing?: boolean;
}
export interface SealState {
  ipv4Rule: RuleState;
  ipv6Rule: RuleState;
  bridges: BridgeSeal[];
  via: 'host' | 'container';
}
export interface SealOutcome {
  sealed: boolean;
  /** Why not, in one sentence a learner can act on. */
  reason?: string;
  via?: 'host' | 'container';
}

const RULE = `INPUT -i ${BRIDGE_PREFIX}+ -j DROP`;
const BRIDGE_NAME = /^hn-[0-9a-f]{1,12}$/;

function checkedBridges(bridges: string[]): string[] {
  for (const b of bridges) if (!BRIDGE_NAME.test(b)) throw new Error(`not a lab bridge name: ${b}`);
  return bridges;
}

/** Shell that installs the rules (once) and seals each bridge. Idempotent. */
export function sealScript(bridges: string[]): string {
  const lines = [
    'set -e',
    // -w waits for the xtables lock that dockerd may hold; ip6tables may be absent or unusable.
    `iptables -w -C ${RULE} 2>/dev/null || iptables -w -I ${RULE.replace('INPUT', 'INPUT 1')}`,
    `if ip6tables -w -L INPUT -n >/dev/null 2>&1; then ip6tables -w -C ${RULE} 2>/dev/null || ip6tables -w -I ${RULE.replace('INPUT', 'INPUT 1')}; fi`,
  ];
  for (const b of checkedBridges(bridges)) {
    lines.push(
      `ip link set dev ${b} arp off`,
      // addrgenmode none keeps a link-local address from coming back when the bridge goes up again.
      `ip link set dev ${b} addrgenmode none 2>/dev/null || true`,
      `ip -6 addr flush dev ${b} 2>/dev/null || true`,
      `[ -w /proc/sys/net/ipv6/conf/${b}/disable_ipv6 ] && echo 1 > /proc/sys/net/ipv6/conf/${b}/disable_ipv6 || true`,
    );
  }
  return lines.join('\n') + '\n';
}

/** Shell that reports the seal's state in the lines parseSealState reads. */
export function inspectScript(bridges: string[]): string {
  const lines = [
    `if iptables -w -C ${RULE} 2>/dev/null; then echo '@rule ipv4 yes'; else echo '@rule ipv4 no'; fi`,
    `if ! ip6tables -w -L INPUT -n >/dev/null 2>&1; then echo '@rule ipv6 n/a'; elif ip6tables -w -C ${RULE} 2>/dev/null; then echo '@rule ipv6 yes'; else echo '@rule ipv6 no'; fi`,
  ];
  for (const b of checkedBridges(bridges)) {
    lines.push(
      `echo '@bridge ${b}'`,
      `ip -j link show dev ${b} 2>/dev/null || echo '[]'`,
      `echo '@addr'`,
      `ip -j addr show dev ${b} 2>/dev/null || echo '[]'`,
    );
  }
  return lines.join('\n') + '\n';
}

interface IpLink {
  ifname?: string;
  flags?: string[];
  addr_info?: { family?: string; local?: string; prefixlen?: number }[];
}

function parseJsonList(text: string): IpLink[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  const parsed: unknown = JSON.parse(trimmed);
  return Array.isArray(parsed) ? (parsed as IpLink[]) : [];
}

export function parseSealState(text: string, via: SealState['via']): SealState {
  const state: SealState = { ipv4Rule: 'no', ipv6Rule: 'no', bridges: [], via };
  const sections = text.split(/^(?=@)/m);
  let current: BridgeSeal | undefined;
  for (const section of sections) {
    const [head = '', ...rest] = section.split('\n');
    const body = rest.join('\n');
    const rule = /^@rule (ipv4|ipv6) (yes|no|n\/a)/.exec(head);
    if (rule) {
      state[rule[1] === 'ipv4' ? 'ipv4Rule' : 'ipv6Rule'] = rule[2] as RuleState;
      continue;
    }
    const bridge = /^@bridge (\S+)/.exec(head);
    if (bridge) {
      const link = parseJsonList(body)[0];
      current = { name: bridge[1] as string, noarp: !!link?.flags?.includes('NOARP'), addresses: [] };
      if (!link) current.missing = true;
      state.bridges.push(current);
      continue;
    }
    if (head.startsWith('@addr') && current) {
      current.addresses = parseJsonList(body)
        .flatMap((l) => l.addr_info ?? [])
        .map((a) => `${a.local ?? '?'}/${a.prefixlen ?? '?'}`);
    }
  }
  return state;
}

/** What is wrong with a seal, one sentence each; empty when the host is sealed. */
export function sealProblems(state: SealState): string[] {
  const problems: string[] = [];
  if (state.ipv4Rule !== 'yes') problems.push(`the host has no "iptables ${RULE}" rule`);
  if (state.ipv6Rule === 'no') problems.push(`the host has no "ip6tables ${RULE}" rule`);
  for (const b of state.bridges) {
    if (b.missing) continue;
    if (!b.noarp) problems.push(`bridge ${b.name} answers ARP (it is not NOARP)`);
    if (b.addresses.length) problems.push(`the host holds ${b.addresses.join(', ')} on bridge ${b.name}`);
  }
  return problems;
}

/**
 * hurrynet may seal the host itself (no helper container) when it runs as root on Linux next to a
 * local engine whose bridges it can see.
 */
export function canSealHere(probeBridge?: string): boolean {
  if (process.env.HURRYNET_SEAL_VIA === 'container') return false;
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const host = process.env.DOCKER_HOST ?? '';
  if (host && !host.startsWith('unix://')) return false;
  return probeBridge ? existsSync(`/sys/class/net/${probeBridge}`) : true;
}

function runHostShell(script: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('sh', ['-c', script], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(stderr.trim() || err.message));
      else resolve(stdout);
    });
  });
}

/** Where a helper container comes from and what it is labelled (defaults: the base image, the project). */
export interface HelperOptions {
  image?: string;
  labels?: Record<string, string>;
}

/** Runs a script in the host's network namespace: directly, or through a helper container. */
async function hostShell(
  driver: Driver,
  script: string,
  probeBridge: string | undefined,
  helper: HelperOptions,
): Promise<{ out: string; via: SealState['via'] }> {
  if (canSealHere(probeBridge)) {
    try {
      return { out: await runHostShell(script, 20_000), via: 'host' };
    } catch {
      // No iptables on the host's PATH, or another reason: the helper container may still do it.
    }
  }
  const image = helper.image ?? imageSet().base;
  const labels = { [LABEL.project]: projectLabelValue(), ...helper.labels, [LABEL.kind]: 'seal' };
  const r = await driver.runOnHostNetwork(image, script, labels, 30_000);
  if (r.exitCode !== 0) throw new Error(r.stderr.trim() || `exit ${r.exitCode}`);
  return { out: r.stdout, via: 'container' };
}

/** Seals the host against these bridges; never throws (an unsealed host is a warning or a refusal upstream). */
export async function sealBridges(driver: Driver, bridges: string[], helper: HelperOptions = {}): Promise<SealOutcome> {
  if (process.env.HURRYNET_SEAL === '0') return { sealed: false, reason: 'HURRYNET_SEAL=0 turned the host seal off' };
  try {
    const { via } = await hostShell(driver, sealScript(bridges), bridges[0], helper);
    const state = await inspectSeal(driver, bridges, helper);
    const problems = sealProblems(state);
    return problems.length ? { sealed: false, reason: problems.join('; '), via } : { sealed: true, via };
  } catch (err) {
    return {
      sealed: false,
      reason: `the host's firewall could not be set (${(err as Error).message.split('\n')[0]}); run hurrynet as root on Linux, or see docs/seal.md`,
    };
  }
}

/** The seal's state as the host sees it; bridges [] reports the host rules only. */
export async function inspectSeal(driver: Driver, bridges: string[], helper: HelperOptions = {}): Promise<SealState> {
  const { out, via } = await hostShell(driver, inspectScript(bridges), bridges[0], helper);
  return parseSealState(out, via);
}
