// What the NAT and security-group labs (06, 07) share about translation and filtering, beyond the
// readers of rules and tables in ./routing.ts: the live address a router translates to or a filter
// matches, and how a fault forgets the flows the old rules let through.
import { q } from '../../checks/probes.js';
import type { Evidence, Host } from '../../checks/types.js';

/**
 * A node's first IPv4 address on an interface as the kernel has it now (the home router's ISP
 * side, what its masquerade translates to; the admin's address, what the edge's rule must name).
 * Read live, not from the world: the answer checks compare with what the network really does.
 */
export async function interfaceAddress(host: Host, dev: string): Promise<{ address?: string; evidence: Evidence }> {
  const e = await host.run(`ip -4 -br addr show dev ${q(dev)}`, 5000);
  const m = /\b(\d{1,3}(?:\.\d{1,3}){3})\/\d+/.exec(e.output);
  return { address: e.exitCode === 0 ? m?.[1] : undefined, evidence: e };
}

/**
 * Shell: empties a node's connection table. A fault that changes rules runs it, because flows the
 * old rules let through stay ESTABLISHED (and keep their translation) until they expire.
 */
export const FORGET_FLOWS = 'conntrack -F >/dev/null 2>&1 || true';
