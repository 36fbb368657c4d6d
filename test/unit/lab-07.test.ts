// Lab 07's variation is pure: deterministic per seed, different across seeds, valid for the world.
import { describe, expect, it } from 'vitest';
import lab, {
  ADMIN_KINDS,
  ADMIN_PORTS,
  AGENT_PORT_RANGE,
  ALICE_NAME,
  ALICE_PUBLIC,
  BACKBONE_PREFIX,
  BOB_PUBLIC,
  DNS,
  LAPTOP_NAME,
  LAPTOP_NODE,
  PRIVATE_PORTS,
  WEB,
} from '../../labs/07-security-groups/lab.js';
import { contains } from '../../orchestrator/addresses.js';
import { varsFor, type Vars } from '../../orchestrator/lab.js';
import { worldProblems } from '../../orchestrator/validate.js';
import { canonicalWorld, findNode, type World } from '../../orchestrator/world.js';

const SEEDS = Array.from({ length: 200 }, (_, i) => `seed-${i}`);
const worldFor = (v: Vars): World => (lab.overlay as NonNullable<typeof lab.overlay>)(structuredClone(canonicalWorld), v);
const usedOnBackbone = canonicalWorld.nodes.flatMap((n) => n.interfaces.filter((i) => i.link === 'backbone').flatMap((i) => i.addresses.map((a) => a.split('/')[0])));

describe('lab 07: variation', () => {
  it('is deterministic per seed', () => {
    for (const s of SEEDS.slice(0, 20)) expect(varsFor(lab, s)).toEqual(varsFor(lab, s));
  });

  it('differs across seeds: who may administer, on which port, and the laptop\'s address', () => {
    const all = SEEDS.map((s) => varsFor(lab, s));
    expect(new Set(all.map((v) => v.adminKind))).toEqual(new Set(ADMIN_KINDS));
    expect(new Set(all.map((v) => v.adminPort))).toEqual(new Set(ADMIN_PORTS));
    expect(new Set(all.map((v) => v.privatePort))).toEqual(new Set(PRIVATE_PORTS));
    expect(new Set(all.map((v) => v.laptopAddress)).size).toBeGreaterThan(100);
    expect(new Set(all.map((v) => v.adminAddress)).size).toBeGreaterThan(50);
  });

  it('names an admin address that is the laptop\'s or Alice\'s public one, never a private address', () => {
    for (const s of SEEDS) {
      const v = varsFor(lab, s);
      if (v.adminKind === 'laptop') {
        expect(v.adminName).toBe(LAPTOP_NAME);
        expect(v.adminAddress).toBe(v.laptopAddress);
      } else {
        expect(v.adminName).toBe(ALICE_NAME);
        expect(v.adminAddress).toBe(ALICE_PUBLIC);
      }
      expect(contains('192.168.0.0/16', String(v.adminAddress))).toBe(false);
    }
  });

  it('gives the laptop a free backbone address, and ports that neither collide nor hit the FTP DNAT', () => {
    for (const s of SEEDS) {
      const v = varsFor(lab, s);
      const laptop = String(v.laptopAddress);
      expect(contains(BACKBONE_PREFIX, laptop), laptop).toBe(true);
      expect(usedOnBackbone).not.toContain(laptop);
      const ports = [Number(v.adminPort), Number(v.privatePort), Number(v.agentPort)];
      expect(new Set([...ports, 80, 443]).size).toBe(5);
      for (const p of ports) {
        expect(p === 21 || (p >= 30000 && p <= 30009), `port ${p} would go to the ftp node`).toBe(false);
      }
      // The agent listens inside the kernel's client-port range (32768-60999).
      expect(Number(v.agentPort)).toBeGreaterThanOrEqual(AGENT_PORT_RANGE[0]);
      expect(Number(v.agentPort)).toBeLessThanOrEqual(AGENT_PORT_RANGE[1]);
      expect(Number(v.agentPort)).toBeGreaterThan(32768);
      expect(Number(v.agentPort)).toBeLessThan(60999);
    }
  });

  it('overlays a valid world: Bob\'s laptop on the backbone, with names for both admin sources', () => {
    for (const s of SEEDS) {
      const v = varsFor(lab, s);
      const world = worldFor(v);
      expect(worldProblems(world), s).toEqual([]);
      const laptop = findNode(world, LAPTOP_NODE);
      expect(laptop?.role).toBe('alice');
      expect(laptop?.interfaces).toEqual([{ link: 'backbone', addresses: [`${String(v.laptopAddress)}/24`] }]);
      expect(laptop?.routes).toEqual([{ to: 'default', via: '198.51.100.1' }]);
      expect(laptop?.nameserver).toBe(DNS);
      const records = world.settings.zones.flatMap((z) => z.records.map((r) => ({ ...r, fqdn: r.name === '@' ? z.name : `${r.name}.${z.name}` })));
      expect(records.find((r) => r.fqdn === LAPTOP_NAME)?.value).toBe(v.laptopAddress);
      expect(records.find((r) => r.fqdn === ALICE_NAME)?.value).toBe(ALICE_PUBLIC);
      // Everything else is the canonical world.
      expect(world.nodes.filter((n) => n.name !== LAPTOP_NODE)).toEqual(canonicalWorld.nodes);
    }
    expect(findNode(canonicalWorld, LAPTOP_NODE)).toBeUndefined();
  });

  it('starts from a stateless filter on the edge and the stand-in services on web', () => {
    for (const s of ['seed-0', 'seed-1', 'seed-2', 'seed-3']) {
      const v = varsFor(lab, s);
      const faults = lab.faults(v);
      expect(faults.map((f) => f.node)).toEqual(['edge', 'web', LAPTOP_NODE]);
      const edge = faults[0]?.script ?? '';
      expect(edge).toContain('iptables -P FORWARD DROP');
      expect(edge).not.toContain('conntrack --ctstate');
      expect(edge).toContain(`--dport ${String(v.adminPort)}`);
      expect(edge).toContain(`-d ${WEB}`);
      expect(edge).toContain(`admin_from: ${String(v.adminName)}`);
      const web = faults[1]?.script ?? '';
      expect(web).toContain(`services.js ${String(v.adminPort)} ${String(v.privatePort)} ${String(v.agentPort)}`);
    }
  });

  it('writes the policy on the task card, never the admin address itself, and asks three questions', () => {
    for (const s of SEEDS.slice(0, 30)) {
      const v = varsFor(lab, s);
      const card = lab.task?.(v) ?? {};
      expect(card.admin_port).toBe(String(v.adminPort));
      expect(card.admin_from).toBe(v.adminName);
      expect(JSON.stringify(card)).not.toContain(String(v.adminAddress));
      expect(JSON.stringify(card)).toContain(BOB_PUBLIC);
    }
    expect(lab.questions.map((q) => q.key)).toEqual(['admin_source', 'dropped_packet', 'why_stateless']);
    expect(lab.submissionNodes).toEqual(['edge', 'alice']);
  });

  it('judges the free-text answers by what they must say', async () => {
    const checks = lab.checks(varsFor(lab, 'seed-a'));
    const judge = async (id: string, value: string) => {
      const check = checks.find((c) => c.id === id);
      const key = id === 'answer-dropped' ? 'dropped_packet' : 'why_stateless';
      const ctx = {
        instance: 'x',
        vars: {},
        answers: async () => ({ ok: true as const, values: { [key]: value }, raw: `${key}: ${value}` }),
        probe: async () => {
          throw new Error('no probes here');
        },
        node: () => {
          throw new Error('no nodes here');
        },
      };
      return (await check?.run(ctx))?.passed;
    };
    for (const ok of ['SYN-ACK', 'syn/ack', 'the SYN ACK from web', 'SYNACK', '[S.]']) expect(await judge('answer-dropped', ok), ok).toBe(true);
    for (const bad of ['SYN', 'ACK', 'FIN', 'the first one']) expect(await judge('answer-dropped', bad), bad).toBe(false);
    expect(await judge('answer-why', 'Each packet is judged alone, so the reply from web matched no rule and was dropped')).toBe(true);
    expect(await judge('answer-why', 'it keeps no state, so the return traffic was dropped')).toBe(true);
    expect(await judge('answer-why', 'because of the firewall')).toBe(false);
    expect(await judge('answer-why', 'no idea')).toBe(false);
  });

  it('pins the admin kinds of the seeds the integration test uses', () => {
    expect(varsFor(lab, 'seed-a').adminKind).toBe('laptop');
    expect(varsFor(lab, 'seed-b').adminKind).toBe('alice');
  });
});
