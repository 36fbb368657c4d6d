// The host's iptables backend (nf_tables or legacy) and whether Docker's rules live in it. Both
// backends' rules apply in the kernel, but a rule added with `iptables` (the host seal, your own
// firewall) lands in the backend `iptables` names, and `iptables -L` shows only that one.
import { finding, isError, ok, unknownOnRemote, type Check, type IptablesListing } from '../findings.js';

export type Backend = IptablesListing['backend'];

/** "iptables v1.8.9 (nf_tables)" → nf_tables; "(legacy)" or no tag (before 1.8) → legacy. */
export function backendOf(versionLine: string): Backend {
  return /\(nf_tables\)/.test(versionLine) ? 'nf_tables' : 'legacy';
}

/** Docker's chains in a `-S` listing of the filter table. */
export function dockerChains(rules: string): { docker: boolean; dockerUser: boolean } {
  const chains = new Set(
    rules
      .split('\n')
      .map((l) => /^-N (\S+)/.exec(l.trim())?.[1])
      .filter((c): c is string => !!c),
  );
  return { docker: chains.has('DOCKER'), dockerUser: chains.has('DOCKER-USER') };
}

const ALIGN =
  'Make both use one backend: point iptables at the one Docker uses (sudo update-alternatives --set iptables /usr/sbin/iptables-nft, or iptables-legacy, and the same for ip6tables), then restart Docker (sudo systemctl restart docker).';

export const iptables: Check = (inputs) => {
  const ipt = inputs.iptables;
  if (!ipt) return [];
  const id = 'iptables';
  const title = 'iptables backend';
  if (!inputs.engineLocal)
    return [
      unknownOnRemote(
        inputs,
        id,
        title,
        "Nothing to do on Docker Desktop (its VM's rules are Docker's own); on a remote engine, run hurrynet doctor on that machine.",
      ),
    ];
  if (ipt.version === 'missing')
    return [
      finding(
        id,
        title,
        'warn',
        'no iptables command on this machine: hurrynet cannot seal the host itself and falls back to a helper container',
        'Install iptables (sudo apt-get install iptables).',
      ),
    ];
  if (isError(ipt.version))
    return [
      finding(
        id,
        title,
        'unknown',
        `iptables -V failed: ${ipt.version.error}`,
        'Check that iptables runs: iptables -V.',
      ),
    ];
  const versionLine = ipt.version.trim().split('\n')[0] ?? '';
  const inUse = backendOf(versionLine);
  const seen = new Map<Backend, { docker: boolean; dockerUser: boolean }>();
  let unreadable = false;
  for (const l of ipt.listings) {
    if (l.rules === 'missing') continue;
    if (isError(l.rules)) unreadable ||= l.backend === inUse;
    else seen.set(l.backend, dockerChains(l.rules));
  }
  const has = (b: Backend) => {
    const c = seen.get(b);
    return !!c && c.docker && c.dockerUser;
  };
  const other: Backend = inUse === 'nf_tables' ? 'legacy' : 'nf_tables';
  if (has(inUse))
    return [ok(id, title, `${versionLine}; Docker's DOCKER and DOCKER-USER chains are in the ${inUse} backend too`)];
  if (unreadable || !seen.has(inUse))
    return [
      finding(
        id,
        title,
        'unknown',
        `${versionLine}; the ${inUse} rules could not be read (reading them needs root)`,
        'Run sudo hurrynet doctor to see whether Docker writes its rules to the same backend.',
      ),
    ];
  if (has(other))
    return [
      finding(
        id,
        title,
        'warn',
        `${versionLine}, but Docker's DOCKER and DOCKER-USER chains are in the ${other} backend: both apply, yet rules added with iptables (the host seal, your firewall) sit apart from Docker's`,
        ALIGN,
      ),
    ];
  return [
    finding(
      id,
      title,
      'warn',
      `${versionLine}; Docker's DOCKER and DOCKER-USER chains are in neither backend: the engine runs with --iptables=false or writes nftables itself (firewall-backend=nftables)`,
      'Let Docker manage iptables (remove "iptables": false and "firewall-backend" from /etc/docker/daemon.json, then restart Docker), or check the seal with hurrynet doctor after a lab starts.',
    ),
  ];
};
