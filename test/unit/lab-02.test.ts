// Lab 02's variation is pure: deterministic per seed, different across seeds, valid for the world.
import { describe, expect, it } from 'vitest';
import lab, { ACCESS_PREFIX, HOME_PREFIX, ISP_ADDRESS, KINDS, ROUTER, STORY_PUBLIC } from '../../labs/02-addresses/lab.js';
import { contains } from '../../orchestrator/addresses.js';
import { varsFor, type Vars } from '../../orchestrator/lab.js';
import { worldProblems } from '../../orchestrator/validate.js';
import { canonicalWorld, findNode, type World } from '../../orchestrator/world.js';

const SEEDS = Array.from({ length: 200 }, (_, i) => `seed-${i}`);
const worldFor = (v: Vars): World => (lab.overlay as NonNullable<typeof lab.overlay>)(structuredClone(canonicalWorld), v);
const ip = (cidr: string) => cidr.split('/')[0] as string;
const host = (a: string) => Number(a.split('.')[3]);

describe('lab 02: variation', () => {
  it('is deterministic per seed', () => {
    for (const s of SEEDS.slice(0, 20)) expect(varsFor(lab, s)).toEqual(varsFor(lab, s));
  });

  it('differs across seeds: public addresses and starting faults', () => {
    const all = SEEDS.map((s) => varsFor(lab, s));
    expect(new Set(all.map((v) => v.publicAddress)).size).toBeGreaterThan(100);
    expect(new Set(all.map((v) => v.kind))).toEqual(new Set(KINDS));
    expect(varsFor(lab, 'seed-a').publicAddress).not.toBe(varsFor(lab, 'seed-b').publicAddress);
  });

  it('gives a public address inside the access network, never the ISP router or the story address', () => {
    for (const s of SEEDS) {
      const pub = String(varsFor(lab, s).publicAddress);
      expect(contains(ACCESS_PREFIX, pub), pub).toBe(true);
      expect(pub).not.toBe(ISP_ADDRESS);
      expect(pub).not.toBe(STORY_PUBLIC);
      expect(host(pub)).toBeGreaterThan(0);
      expect(host(pub)).toBeLessThan(255);
    }
  });

  it('overlays a valid world: alice without a static address, the home router on its new public address', () => {
    for (const s of SEEDS) {
      const v = varsFor(lab, s);
      const world = worldFor(v);
      expect(worldProblems(world), s).toEqual([]);
      const alice = findNode(world, 'alice');
      expect(alice?.interfaces.flatMap((i) => i.addresses)).toEqual([]);
      expect(alice?.routes).toEqual([]);
      const home = findNode(world, 'home');
      expect(home?.interfaces.find((i) => i.link === 'access')?.addresses).toEqual([`${String(v.publicAddress)}/24`]);
      expect(home?.interfaces.find((i) => i.link === 'home')?.addresses).toEqual(['192.168.1.1/24']);
    }
    // The canonical world itself is untouched.
    expect(findNode(canonicalWorld, 'alice')?.interfaces[0]?.addresses).toEqual(['192.168.1.101/24']);
    expect(findNode(canonicalWorld, 'home')?.interfaces[1]?.addresses).toEqual(['203.0.113.5/24']);
  });

  it('starts each kind of fault with a sensible static configuration that DHCP never hands out', () => {
    const { rangeStart, rangeEnd } = canonicalWorld.settings.dhcp;
    const inPool = (a: string) => host(a) >= host(rangeStart) && host(a) <= host(rangeEnd) && contains(HOME_PREFIX, a);
    for (const s of SEEDS) {
      const v = varsFor(lab, s);
      const address = String(v.staticAddress);
      const gateway = String(v.staticGateway);
      switch (v.kind) {
        case 'no-dhcp':
          expect(address).toBe('');
          expect(gateway).toBe('');
          break;
        case 'wrong-subnet':
          expect(contains(HOME_PREFIX, ip(address)), address).toBe(false);
          expect(contains('192.168.0.0/16', ip(address))).toBe(true);
          expect(contains(`${ip(address)}/24`, gateway), `${address} via ${gateway}`).toBe(true);
          break;
        case 'no-route':
          expect(contains(HOME_PREFIX, ip(address))).toBe(true);
          expect(gateway).toBe('');
          break;
        case 'wrong-gateway':
          expect(contains(HOME_PREFIX, ip(address))).toBe(true);
          expect(contains(HOME_PREFIX, gateway)).toBe(true);
          expect(gateway).not.toBe(ROUTER);
          expect(gateway).not.toBe(ip(address));
          break;
        default:
          throw new Error(`unknown kind ${String(v.kind)}`);
      }
      if (address) {
        expect(address.endsWith('/24')).toBe(true);
        expect(inPool(ip(address)), address).toBe(false);
        expect(ip(address)).not.toBe(ROUTER);
        expect([0, 255]).not.toContain(host(ip(address)));
      }
    }
  });

  it('injects the fault on alice only, with a fresh MAC and the static configuration of its kind', () => {
    for (const s of ['seed-0', 'seed-1', 'seed-2', 'seed-3', 'seed-4', 'seed-5']) {
      const v = varsFor(lab, s);
      const faults = lab.faults(v);
      expect(faults.map((f) => f.node)).toEqual(['alice']);
      const script = faults[0]?.script ?? '';
      expect(script).toContain('ip link set dev home address');
      if (v.staticAddress) expect(script).toContain(`ip addr add ${String(v.staticAddress)} brd + dev home`);
      else expect(script).not.toContain('ip addr add');
      if (v.staticGateway) expect(script).toContain(`default via ${String(v.staticGateway)}`);
      else expect(script).not.toContain('ip route add');
    }
  });

  it('never reveals the fault on the task card, and asks the three questions', () => {
    const cards = SEEDS.slice(0, 30).map((s) => JSON.stringify(lab.task?.(varsFor(lab, s))));
    expect(new Set(cards).size).toBe(1);
    expect(lab.questions.map((q) => q.key)).toEqual(['private_address', 'public_address', 'mac_address']);
    expect(lab.submissionNodes).toEqual(['alice']);
  });

  it('pins the kinds of the seeds the integration test uses', () => {
    const kinds = Object.fromEntries(['seed-a', 'seed-b', 'seed-c', 'seed-d', 'seed-k'].map((s) => [s, varsFor(lab, s).kind]));
    expect(kinds).toEqual({ 'seed-a': 'wrong-gateway', 'seed-b': 'wrong-gateway', 'seed-c': 'no-dhcp', 'seed-d': 'no-route', 'seed-k': 'wrong-subnet' });
  });
});
