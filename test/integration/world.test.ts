// The free-play world on a real engine: what a learner can do from Alice's laptop, checked with
// real packets, from both ends.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stop, up } from '../../orchestrator/runtime/engine.js';
import { LABEL } from '../../orchestrator/runtime/plan.js';
import { Driver } from '../../orchestrator/runtime/driver.js';
import { canonicalWorld } from '../../orchestrator/world/world.js';
import { driver, labelledObjects, sh } from './helpers.js';

const A = 't-world';
const B = 't-world2';

beforeAll(async () => {
  // Two instances with identical story addresses, started at the same time.
  await Promise.all([up(driver, { instance: A, replace: true }), up(driver, { instance: B, replace: true })]);
});

afterAll(async () => {
  await Promise.all([stop(driver, A), stop(driver, B)]);
});

describe("from Alice's laptop", () => {
  it('has its story address, route and resolver, and no Docker address', async () => {
    const r = await sh(A, 'alice', 'ip -4 -o addr show; ip route; cat /etc/resolv.conf');
    expect(r.stdout).toMatch(/lan\s+inet 192\.168\.1\.101\/24/);
    expect(r.stdout).not.toMatch(/10\.250\./);
    expect(r.stdout).toMatch(/^default via 192\.168\.1\.1 dev lan/m);
    expect(r.stdout).toMatch(/^nameserver 192\.168\.1\.1$/m);
  });

  it("pings the public address of Bob's server", async () => {
    const r = await sh(A, 'alice', 'ping -c 3 -W 2 198.51.100.80');
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/3 packets transmitted, 3 received/);
  });

  it('resolves web.bob.example through the home resolver, which asks the dns node', async () => {
    const r = await sh(A, 'alice', 'dig +time=2 +tries=2 web.bob.example');
    expect(r.stdout).toMatch(/web\.bob\.example\.\s+\d+\s+IN\s+A\s+198\.51\.100\.80/);
    expect(r.stdout).toMatch(/SERVER: 192\.168\.1\.1#53/);
    // The query reached the authoritative server from the home router's public address.
    const log = await sh(A, 'dns', 'cat /var/log/named/queries.log');
    expect(log.stdout).toMatch(/client @\S+ 203\.0\.113\.5#\d+ \(web\.bob\.example\): query: web\.bob\.example IN A/);
    const ns = await sh(A, 'alice', 'nslookup ftp.bob.example');
    expect(ns.stdout).toMatch(/Address: 198\.51\.100\.80/);
  });

  it("fetches Bob's page through the edge's NAT; the server sees Alice's public address", async () => {
    const r = await sh(A, 'alice', 'curl -sS -m 5 http://web.bob.example/');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/arrived from 203\.0\.113\.5/);
    const log = await sh(A, 'web', 'tail -n 1 /var/log/web/access.log');
    const entry = JSON.parse(log.stdout) as { client: string; method: string };
    expect(entry.client).toBe('203.0.113.5');
    expect(entry.client).not.toBe('192.168.1.101');
  });

  it('uses the JSON resource with GET, POST, PUT and DELETE', async () => {
    const base = 'http://web.bob.example/api/notes';
    const post = await sh(
      A,
      'alice',
      `curl -sS -m 5 -w '\\n%{http_code}' -H 'Content-Type: application/json' -d '{"title":"t1","body":"b"}' ${base}`,
    );
    const [body, code] = post.stdout.trim().split('\n');
    expect(code).toBe('201');
    const id = (JSON.parse(body!) as { id: number }).id;
    const put = await sh(
      A,
      'alice',
      `curl -sS -m 5 -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/json' -d '{"title":"t2"}' ${base}/${id}`,
    );
    expect(put.stdout).toBe('200');
    const get = await sh(A, 'alice', `curl -sS -m 5 ${base}/${id}`);
    expect(JSON.parse(get.stdout)).toMatchObject({ id, title: 't2' });
    const del = await sh(A, 'alice', `curl -sS -m 5 -o /dev/null -w '%{http_code}' -X DELETE ${base}/${id}`);
    expect(del.stdout).toBe('204');
    const gone = await sh(A, 'alice', `curl -sS -m 5 -o /dev/null -w '%{http_code}' ${base}/${id}`);
    expect(gone.stdout).toBe('404');
    // The server's own state file agrees (graders read it from that side).
    const state = await sh(A, 'web', 'cat /srv/web/data/notes.json');
    expect((JSON.parse(state.stdout) as { items: { id: number }[] }).items.map((n) => n.id)).not.toContain(id);
  });

  it('traces the path hop by hop: home, isp, edge', async () => {
    const r = await sh(A, 'alice', 'traceroute -n -w 2 -q 1 web.bob.example');
    const hops = [...r.stdout.matchAll(/^\s*\d+\s+(\S+)/gm)].map((m) => m[1]);
    expect(hops.slice(0, 3)).toEqual(['192.168.1.1', '203.0.113.1', '198.51.100.80']);
  });

  it('lists and downloads files over FTP in passive and active mode', async () => {
    const list = await sh(A, 'alice', 'curl -sS -m 10 ftp://ftp.bob.example/');
    expect(list.exitCode, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/welcome\.txt/);
    const active = await sh(A, 'alice', 'curl -sS -m 10 -P - ftp://ftp.bob.example/pub/sample.txt');
    expect(active.exitCode, active.stderr).toBe(0);
    expect(active.stdout).toMatch(/Bob's sample file/);
    // The raw PASV reply names the public address (vsftpd's pasv_address), not 10.0.1.21.
    const pasv = await sh(A, 'alice', 'curl -sS -v -m 10 --disable-epsv ftp://ftp.bob.example/ 2>&1 >/dev/null');
    expect(pasv.stdout).toMatch(/< 227 Entering Passive Mode \(198,51,100,80,\d+,\d+\)/);
    const client = await sh(A, 'alice', "printf 'user anonymous x\\nls\\nbye\\n' | ftp -n -v -p ftp.bob.example");
    expect(client.stdout).toMatch(/226 Directory send OK/);
  });

  it('runs the troubleshooting toolkit and Python tutorial code unchanged', async () => {
    const r = await sh(
      A,
      'alice',
      'ifconfig lan && ip link show lan && tcpdump --version && conntrack --version && openssl version',
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/inet 192\.168\.1\.101/);
    const py = await sh(
      A,
      'alice',
      `python3 -c 'import requests, socket, ftplib
print(requests.get("http://web.bob.example/whoami", timeout=5).json()["clientAddress"])
f = ftplib.FTP("ftp.bob.example", timeout=5); f.login(); print(sorted(f.nlst())); f.quit()'`,
    );
    expect(py.exitCode, py.stderr).toBe(0);
    expect(py.stdout).toMatch(/^203\.0\.113\.5$/m);
    expect(py.stdout).toMatch(/welcome\.txt/);
  });

  it('captures its own traffic with tcpdump', async () => {
    const r = await sh(
      A,
      'alice',
      'timeout 5 tcpdump -n -c 2 -i lan icmp 2>/dev/null & sleep 0.5; ping -c 1 -W 2 192.168.1.1 >/dev/null; wait',
    );
    expect(r.stdout).toMatch(/192\.168\.1\.101 > 192\.168\.1\.1: ICMP echo request/);
  });
});

describe('interface names', () => {
  it('answer to the plain forms a learner types: ip addr show NAME, ifconfig NAME, tcpdump -i NAME', async () => {
    for (const node of canonicalWorld.nodes) {
      for (const i of node.interfaces) {
        const address = i.addresses[0]?.split('/')[0] as string;
        const r = await sh(A, node.name, `ip addr show ${i.link}; ip -br link show ${i.link}`);
        expect(r.stdout, `${node.name}: ip addr show ${i.link}`).toContain(`inet ${address}/`);
        expect(r.stdout, `${node.name}: ip -br link show ${i.link}`).toMatch(
          new RegExp(`^${i.link}(@\\S+)?\\s+UP`, 'm'),
        );
      }
    }
    const alice = canonicalWorld.nodes.find((n) => n.name === 'alice')!;
    for (const i of alice.interfaces) {
      const address = i.addresses[0]?.split('/')[0] as string;
      const r = await sh(
        A,
        'alice',
        `ifconfig ${i.link}; timeout 3 tcpdump -i ${i.link} -c 1 -w /dev/null 2>&1 & sleep 0.5; ping -c 1 -W 1 ${address} >/dev/null; wait`,
      );
      expect(r.stdout).toContain(`inet ${address}`);
      expect(r.stdout).toMatch(new RegExp(`listening on ${i.link}`));
    }
  });
});

describe('isolation', () => {
  it('keeps two instances with the same addresses apart', async () => {
    // Capture on B's home router while A's laptop talks to A's router: B must see nothing.
    const capture = sh(B, 'home', 'timeout 3 tcpdump -l -n -i lan icmp 2>/dev/null');
    const ping = await sh(A, 'alice', 'sleep 0.5; ping -c 3 -i 0.2 -W 1 192.168.1.1');
    expect(ping.exitCode).toBe(0);
    expect((await capture).stdout).not.toMatch(/ICMP/);
    const before = (await sh(B, 'web', 'wc -l < /var/log/web/access.log')).stdout.trim();
    await sh(A, 'alice', 'curl -sS -m 5 http://web.bob.example/ >/dev/null');
    expect((await sh(B, 'web', 'wc -l < /var/log/web/access.log')).stdout.trim()).toBe(before);
  });

  it('gives the host no address or route on lab bridges', async () => {
    const nets = await driver.listNetworks(Driver.projectLabels({ [LABEL.instance]: A }));
    expect(nets).toHaveLength(4);
    const hostAddrs = execFileSync('ip', ['-4', '-o', 'addr', 'show']).toString();
    const hostRoutes = execFileSync('ip', ['-4', 'route', 'show']).toString();
    for (const n of nets) {
      const bridge = await driver.bridgeOf(n.id);
      expect(bridge).toMatch(/^hn-[0-9a-f]{12}$/);
      expect(hostAddrs).not.toContain(bridge as string);
      expect(hostRoutes).not.toContain(bridge);
      expect(hostRoutes).not.toContain(n.subnets[0]!.split('/')[0]!);
    }
  });

  it("shows a learner only the lab's own services: Docker's embedded DNS left no socket or rule", async () => {
    for (const node of ['alice', 'home', 'isp', 'dns', 'edge', 'web', 'ftp']) {
      const r = await sh(A, node, 'ss -Htlnu; iptables-save -t nat | grep -c DOCKER || true');
      expect(r.stdout, node).not.toContain('127.0.0.11');
      expect(r.stdout.trim().split('\n').pop(), node).toBe('0');
    }
  });

  it('has no route out of the lab (checked without sending a packet)', async () => {
    // The ISP is the top of the lab internet: no default route, so nothing can leave.
    const r = await sh(A, 'isp', 'ip route show default | wc -l; ip route get 192.0.2.1 2>&1 || true');
    expect(r.stdout.split('\n')[0]).toBe('0');
    expect(r.stdout).toMatch(/unreachable/i);
    for (const node of ['alice', 'home', 'dns', 'edge', 'web', 'ftp']) {
      const routes = await sh(A, node, 'ip -4 route show');
      expect(routes.stdout, node).not.toMatch(/10\.250\./);
    }
  });
});

describe('stop', () => {
  it('removes every object of an instance and leaves the other running', async () => {
    await stop(driver, B);
    expect(await labelledObjects(B)).toBe(0);
    expect(await labelledObjects(A)).toBe(11);
    const r = await sh(A, 'alice', 'curl -sS -m 5 -o /dev/null -w "%{http_code}" http://web.bob.example/');
    expect(r.stdout).toBe('200');
  });
});
