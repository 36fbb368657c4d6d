// The host seal, observed rather than assumed: the lab bridges hold no host address of any family
// and answer no ARP, the host's rules are in place, and a frame a root learner crafts on alice for
// an address of this machine is not received, while the same crafting reaches a lab node. The only
// host address involved is one this test creates (a veth pair into its own network namespace,
// with its own listener), and it is removed afterwards.
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stop, up } from '../../orchestrator/runtime/engine.js';
import { projectRoot } from '../../orchestrator/runtime/paths.js';
import { containerName, type InstancePlan } from '../../orchestrator/runtime/plan.js';
import { canSealHere, inspectSeal, sealProblems } from '../../orchestrator/runtime/seal.js';
import { driver, labelledObjects, sh } from './helpers.js';

const I = 't-seal';
const CRAFT = readFileSync(join(projectRoot(), 'test', 'fixtures', 'seal', 'craft.py'), 'utf8');
const PORT = 47999;
// Our own names and a /30 no interface of this machine uses (checked below).
const tag = Math.random().toString(16).slice(2, 8);
const NS = `hnt-seal-${tag}`;
const HOST_IF = `hnts${tag}`;
const PEER_IF = `hntp${tag}`;
let octet = 0;
const hostAddr = () => `10.253.${octet}.1`;
const peerAddr = () => `10.253.${octet}.2`;

const root = canSealHere();
let plan: InstancePlan;
let listener: Socket | undefined;
const received: string[] = [];

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8' });
}

async function craft(args: string[]): Promise<string> {
  const r = await driver.exec(containerName(I, 'alice'), ['python3', '-', ...args], { stdin: CRAFT, timeoutMs: 20000 });
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout.trim();
}

const aliceArgs = async () => {
  const addr = (await sh(I, 'alice', "ip -4 -o addr show dev lan | awk '{print $4}' | cut -d/ -f1")).stdout.trim();
  return { iface: 'lan', addr };
};

const until = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  plan = (await up(driver, { instance: I, replace: true })).plan;
  if (!root) return;
  const used = ip('-4', '-o', 'addr');
  octet = [...Array(200).keys()].map((k) => 20 + k).find((o) => !used.includes(`10.253.${o}.`)) ?? 0;
  ip('netns', 'add', NS);
  ip('link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', PEER_IF);
  ip('link', 'set', PEER_IF, 'netns', NS);
  ip('addr', 'add', `${hostAddr()}/30`, 'dev', HOST_IF);
  ip('link', 'set', HOST_IF, 'up');
  ip('-n', NS, 'addr', 'add', `${peerAddr()}/30`, 'dev', PEER_IF);
  ip('-n', NS, 'link', 'set', PEER_IF, 'up');
  listener = createSocket('udp4');
  listener.on('message', (msg, from) => received.push(`${msg.toString()} from ${from.address}`));
  await new Promise<void>((resolve) => listener?.bind(PORT, hostAddr(), resolve));
});

afterAll(async () => {
  listener?.close();
  if (root) {
    try {
      ip('link', 'del', HOST_IF);
    } catch {
      /* already gone with the namespace */
    }
    try {
      ip('netns', 'del', NS);
    } catch {
      /* never made */
    }
  }
  await stop(driver, I);
  expect(await labelledObjects(I)).toBe(0);
});

describe('the host seal', () => {
  it('leaves no host address on any lab bridge, makes them NOARP, and has the host rules', async () => {
    const bridges = plan.networks.map((n) => n.bridge);
    expect(bridges.every((b) => /^hn-[0-9a-f]{12}$/.test(b))).toBe(true);
    const state = await inspectSeal(driver, bridges);
    expect(sealProblems(state)).toEqual([]);
    expect(state.bridges.map((b) => b.name).sort()).toEqual([...bridges].sort());
    for (const b of state.bridges) {
      expect(b.missing).toBeUndefined();
      expect(b.noarp).toBe(true);
      expect(b.addresses).toEqual([]);
    }
    expect(state.ipv4Rule).toBe('yes');
    expect(['yes', 'n/a']).toContain(state.ipv6Rule);
  });

  it.runIf(root)("does not deliver a datagram crafted on alice for the host's own address", async () => {
    const home = plan.networks.find((n) => n.link === 'lan');
    const mac = readFileSync(`/sys/class/net/${home?.bridge}/address`, 'utf8').trim();
    const { iface, addr } = await aliceArgs();
    // Control: the listener hears a datagram from the test's own namespace.
    execFileSync('ip', ['netns', 'exec', NS, 'bash', '-c', `echo control > /dev/udp/${hostAddr()}/${PORT}`]);
    expect(await until(500).then(() => received.some((r) => r.startsWith('control')))).toBe(true);
    // The attack: to the bridge's MAC, for the test's host address (the weak host model would take it).
    expect(await craft(['udp', iface, mac, hostAddr(), String(PORT), addr])).toBe('sent');
    await until(1000);
    expect(received.filter((r) => r.includes('seal-probe'))).toEqual([]);
    // Nor does the host answer ARP on the bridge for its own addresses.
    expect(await craft(['arp', iface, 'ff:ff:ff:ff:ff:ff', hostAddr(), '0', addr])).toBe('no-arp-reply');
  });

  it.runIf(root)('still bridges the same crafted frame between lab nodes', async () => {
    const { iface, addr } = await aliceArgs();
    const mac = (await sh(I, 'home', 'cat /sys/class/net/lan/address')).stdout.trim();
    const listen = sh(I, 'home', `timeout 5 nc -lu -w 1 192.168.1.1 ${PORT}`, 10000);
    await until(500);
    expect(await craft(['udp', iface, mac, '192.168.1.1', String(PORT), addr])).toBe('sent');
    expect((await listen).stdout).toContain('hurrynet-seal-probe');
  });

  it('is applied by a helper container where hurrynet cannot act on the host itself', async () => {
    process.env.HURRYNET_SEAL_VIA = 'container';
    try {
      const state = await inspectSeal(
        driver,
        plan.networks.map((n) => n.bridge),
      );
      expect(state.via).toBe('container');
      expect(sealProblems(state)).toEqual([]);
    } finally {
      delete process.env.HURRYNET_SEAL_VIA;
    }
  });
});
