// The journey's capture start script, run in bash here with a stand-in tcpdump (no Docker): it
// waits for every interface it started, a capture that ended without listening gets one more
// start, one still starting gets the second wait too, and only what never listened is named
// failed, with tcpdump's last word. The start's output is parsed the way the journey reads it.
import { execFile } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, parseStart, startScript } from '../../orchestrator/journey/capture.js';
import { journeyDocument } from '../../orchestrator/journey/document.js';
import { recordedRun } from '../fixtures/journey/recorded.js';

const run = promisify(execFile);

// Each interface's name says how its stand-in tcpdump behaves; `flaky` fails only its first start.
const TCPDUMP = `#!/bin/bash
while [ $# -gt 0 ]; do [ "$1" = -i ] && i=$2; shift; done
listen() { echo "tcpdump: listening on $i, link-type EN10MB (Ethernet), snapshot length 320 bytes" >&2; exec sleep 20; }
case $i in
  ok) listen ;;
  late) sleep 1.5; listen ;;
  flaky) [ -e "$STATE/flaky" ] && listen; touch "$STATE/flaky"; echo "tcpdump: flaky: That device is not up" >&2; exit 1 ;;
  broken) echo "tcpdump: broken: No such device exists" >&2; exit 1 ;;
  never) exec sleep 20 ;;
esac
`;

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) {
    const caps = join(d, 'caps');
    const pids = existsSync(caps) ? readdirSync(caps).filter((f) => f.endsWith('.pid')) : [];
    for (const p of pids) await run('bash', ['-c', `kill -TERM "$(cat '${join(caps, p)}')" 2>/dev/null || true`]);
    rmSync(d, { recursive: true, force: true });
  }
});

/** A fake /sys/class/net with these interfaces, stand-ins on PATH, and the start script run. */
async function start(ifaces: string[], waitSeconds: number) {
  const d = mkdtempSync(join(tmpdir(), 'hn-capture-'));
  dirs.push(d);
  const net = join(d, 'net');
  const bin = join(d, 'bin');
  for (const [n, i] of ['lo', ...ifaces].entries()) {
    mkdirSync(join(net, i), { recursive: true });
    writeFileSync(join(net, i, 'address'), `02:00:00:00:00:0${n}\n`);
    writeFileSync(join(net, i, 'mtu'), '1500\n');
  }
  mkdirSync(bin);
  const stub = (name: string, body: string) => {
    writeFileSync(join(bin, name), body);
    chmodSync(join(bin, name), 0o755);
  };
  stub('tcpdump', TCPDUMP);
  stub('iptables-save', '#!/bin/sh\necho "# no firewall"\n');
  stub('ip', `#!/bin/sh\necho "2: ${ifaces[0] ?? 'x'}    inet 192.0.2.1/24 brd 192.0.2.255 scope global"\n`);
  const script = startScript(DEFAULT_LIMITS, { waitSeconds, dir: join(d, 'caps'), net });
  const t0 = Date.now();
  const { stdout } = await run('bash', ['-c', script], {
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, STATE: d },
    timeout: 30_000,
  });
  return { stdout, seconds: (Date.now() - t0) / 1000, caps: join(d, 'caps') };
}

describe('the capture start script', () => {
  it('returns once every capture listens, a slow one and one that failed its first start included', async () => {
    const { stdout, caps } = await start(['ok', 'late', 'flaky'], 10);
    const { interfaces, failed } = parseStart('dns', stdout);
    expect(failed).toEqual([]);
    expect(interfaces.map((i) => i.iface).sort()).toEqual(['flaky', 'late', 'ok']);
    expect(interfaces.find((i) => i.iface === 'ok')?.addresses).toEqual(['192.0.2.1/24']);
    for (const i of ['ok', 'late', 'flaky'])
      expect(readFileSync(join(caps, `${i}.err`), 'utf8')).toMatch(/listening on/);
    // The flaky one was started again, once, and said why.
    expect(stdout).toMatch(/^@@hn retry flaky tcpdump: flaky: That device is not up\s*$/m);
  }, 40_000);

  it('names what never listened, with its reason, stops it and removes its files; the rest stay', async () => {
    const { stdout, caps } = await start(['ok', 'broken', 'never'], 1);
    const { interfaces, failed, reasons } = parseStart('dns', stdout);
    expect(failed.sort()).toEqual(['broken', 'never']);
    expect(reasons).toEqual({ broken: 'tcpdump: broken: No such device exists' });
    expect(interfaces.map((i) => i.iface)).toEqual(['ok']);
    expect(readdirSync(caps).sort()).toEqual(['fw.before', 'ok.err', 'ok.pcap', 'ok.pid']);
  }, 40_000);

  it('does not wait out the deadline when every capture listens at once', async () => {
    const { stdout, seconds } = await start(['ok'], 20);
    expect(parseStart('alice', stdout).failed).toEqual([]);
    expect(seconds).toBeLessThan(10);
  }, 40_000);
});

describe('a capture that did not start', () => {
  it("is a warning of the journey, with tcpdump's reason when it gave one", () => {
    const recorded = recordedRun('web');
    const nodes = recorded.captures.nodes.map((n) =>
      n.node === 'dns' ? { ...n, failed: ['backbone'], reasons: { backbone: 'tcpdump: backbone: gone' } } : n,
    );
    const doc = journeyDocument({ ...recorded, captures: { ...recorded.captures, nodes } });
    expect(doc.warnings).toContain(
      'the capture on dns backbone did not start (tcpdump: backbone: gone): packets there are not shown',
    );
  });
});
