// The journey's pure half: the decoder, NAT state, the matcher and the views, on a capture the
// real world recorded (test/fixtures/journey/web.json: `journey web` on a free world) and on
// hand-made frames for the edge cases a recording rarely shows.
import { describe, expect, it } from 'vitest';
import { dnsSummary } from '../../checks/packets/app.js';
import { decodeFrame, type Packet } from '../../checks/packets/decode.js';
import { diagnose, droppingRulesThatRose, parseCounters } from '../../checks/packets/diagnose.js';
import { follow, ftpDataTarget, type NodeView, type Observation } from '../../checks/packets/match.js';
import { parseConntrack } from '../../checks/packets/nat.js';
import { readPcapFile, writePcapFile } from '../../checks/packets/pcap.js';
import { journeyDocument } from '../../orchestrator/journey/document.js';
import { journeyCommand } from '../../orchestrator/journey/presets.js';
import { recordedRun } from '../fixtures/journey/recorded.js';
import { renderHtml } from '../../orchestrator/journey/views/html.js';
import { renderTerminal } from '../../orchestrator/journey/views/terminal.js';
import { UsageError } from '../../orchestrator/errors.js';

describe('the recorded web journey', () => {
  const run = recordedRun('web');
  const doc = journeyDocument(run);
  const http = doc.flows.find((f) => f.app === 'http');

  it("finds the HTTP conversation from alice to Bob's public address", () => {
    expect(http?.client).toMatchObject({ ip: '192.168.1.101', node: 'alice' });
    expect(http?.server).toMatchObject({ ip: '198.51.100.80', port: 80, node: 'edge' });
  });

  it('follows the SYN through every router, with the home NAT and the edge DNAT proven by conntrack', () => {
    const syn = doc.packets.find((p) => p.flow === http?.id && p.label === 'SYN');
    expect(syn?.path).toEqual(['alice', 'home', 'isp', 'edge', 'web']);
    expect(syn?.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          node: 'home',
          field: 'src ip',
          from: '192.168.1.101',
          to: '203.0.113.5',
          why: 'snat',
        }),
        expect.objectContaining({ node: 'edge', field: 'dst ip', from: '198.51.100.80', to: '10.0.1.10', why: 'dnat' }),
      ]),
    );
    const trip = run.journey.trips.find((t) => t.id === syn?.id);
    expect(trip?.hops.map((h) => `${h.node}:${h.matchedBy}`)).toEqual([
      'home:conntrack',
      'isp:unchanged',
      'edge:conntrack',
    ]);
    expect(syn?.fate).toMatchObject({ kind: 'delivered', node: 'web' });
  });

  it('lowers the TTL by one and rewrites both MACs at every router', () => {
    const syn = doc.packets.find((p) => p.flow === http?.id && p.label === 'SYN');
    const ttl = syn?.changes.filter((c) => c.field === 'ttl').map((c) => `${c.node} ${c.from}>${c.to}`);
    expect(ttl).toEqual(['home 64>63', 'isp 63>62', 'edge 62>61']);
    for (const node of ['home', 'isp', 'edge']) {
      expect(syn?.changes.filter((c) => c.node === node && c.field.endsWith('mac')).length).toBe(2);
    }
    const owners = syn?.hops.filter((h) => h.dir === 'out').map((h) => `${h.eth.srcOwner}>${h.eth.dstOwner}`);
    expect(owners).toEqual(['alice>home', 'home>isp', 'isp>edge', 'edge>web']);
  });

  it('undoes both translations for the answer on its way back', () => {
    const reply = doc.packets.find((p) => p.flow === http?.id && p.app?.startsWith('HTTP/1.1 200'));
    expect(reply?.direction).toBe('reply');
    expect(reply?.path).toEqual(['web', 'edge', 'isp', 'home', 'alice']);
    expect(reply?.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          node: 'edge',
          field: 'src ip',
          from: '10.0.1.10',
          to: '198.51.100.80',
          why: 'reverse nat',
        }),
        expect.objectContaining({
          node: 'home',
          field: 'dst ip',
          from: '203.0.113.5',
          to: '192.168.1.101',
          why: 'reverse nat',
        }),
      ]),
    );
  });

  it("links the cache's upstream question to alice's lookup", () => {
    const lookup = doc.flows.find((f) => f.app === 'dns' && f.client.node === 'alice');
    expect(lookup?.related.map((r) => r.why).join()).toContain('home asked upstream');
    const upstream = doc.flows.find((f) => f.id === lookup?.related[0]?.flow);
    expect(upstream?.server.node).toBe('dns');
  });

  it("gives relative sequence numbers from each side's SYN", () => {
    const get = doc.packets.find((p) => p.app?.startsWith('GET '));
    expect(get?.hops[0]?.tcp).toMatchObject({ relSeq: 1, relAck: 1 });
  });

  it('renders the terminal view, the HTML page and JSON', () => {
    const text = renderTerminal(doc, { width: 100, verbose: false, max: 100 });
    expect(text).toContain('alice ─lan→ home ─access→ isp ─backbone→ edge ─vpc→ web');
    expect(text).toContain('src 192.168.1.101:');
    expect(text).toContain('203.0.113.5');
    expect(text).toMatch(/dst 198\.51\.100\.80:80 → 10\.0\.1\.10:80/);
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
    const verbose = renderTerminal(doc, { width: 160, verbose: true, max: 2 });
    expect(verbose).toContain('more packets not shown');
    const html = renderHtml(doc);
    expect(html).toContain('<details class="packet');
    expect(html).toContain('class="changed"');
    expect(html).not.toMatch(/<script|https?:\/\/(?!web\.bob)/);
    expect(JSON.parse(JSON.stringify(doc)).schema).toBe('hurrynet.journey/1');
  });
});

// ---- hand-made frames ------------------------------------------------------------------------

const MAC = {
  alice: '02:00:00:00:00:01',
  homeLan: '02:00:00:00:00:02',
  homeWan: '02:00:00:00:00:03',
  isp: '02:00:00:00:00:04',
};
const macBytes = (m: string) => Buffer.from(m.split(':').map((x) => parseInt(x, 16)));
const ipBytes = (a: string) => Buffer.from(a.split('.').map(Number));

function frame(o: {
  src: string;
  dst: string;
  smac: string;
  dmac: string;
  ttl: number;
  id: number;
  sport: number;
  dport: number;
  seq: number;
  flags?: number;
  data?: string;
  df?: boolean;
  frag?: number;
  mf?: boolean;
}): Buffer {
  const data = Buffer.from(o.data ?? '');
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(o.sport, 0);
  tcp.writeUInt16BE(o.dport, 2);
  tcp.writeUInt32BE(o.seq, 4);
  tcp.writeUInt8(0x50, 12);
  tcp.writeUInt8(o.flags ?? 0x18, 13);
  tcp.writeUInt16BE(64240, 14);
  const ip = Buffer.alloc(20);
  ip.writeUInt8(0x45, 0);
  ip.writeUInt16BE(20 + 20 + data.length, 2);
  ip.writeUInt16BE(o.id, 4);
  ip.writeUInt16BE((o.df === false ? 0 : 0x4000) | (o.mf ? 0x2000 : 0) | ((o.frag ?? 0) / 8), 6);
  ip.writeUInt8(o.ttl, 8);
  ip.writeUInt8(6, 9);
  ipBytes(o.src).copy(ip, 12);
  ipBytes(o.dst).copy(ip, 16);
  const eth = Buffer.concat([macBytes(o.dmac), macBytes(o.smac), Buffer.from([0x08, 0x00])]);
  return Buffer.concat([eth, ip, tcp, data]);
}

const pkt = (b: Buffer, t: number): Packet => decodeFrame(1, b, t);

/** alice -> home (SNAT) -> isp, for one segment. */
function natPath(id: number, seq: number, t: number, data = 'x') {
  const lan = frame({
    src: '192.168.1.101',
    dst: '198.51.100.80',
    smac: MAC.alice,
    dmac: MAC.homeLan,
    ttl: 64,
    id,
    sport: 40000,
    dport: 80,
    seq,
    data,
  });
  const wan = frame({
    src: '203.0.113.5',
    dst: '198.51.100.80',
    smac: MAC.homeWan,
    dmac: MAC.isp,
    ttl: 63,
    id,
    sport: 40000,
    dport: 80,
    seq,
    data,
  });
  return { lan: [pkt(lan, t), pkt(lan, t + 0.0001)], wan: [pkt(wan, t + 0.0002), pkt(wan, t + 0.0003)] };
}

function world(parts: ReturnType<typeof natPath>[]): { obs: Observation[]; views: NodeView[] } {
  const obs: Observation[] = [
    { node: 'alice', iface: 'lan', mac: MAC.alice, packets: parts.map((p) => p.lan[0] as Packet) },
    { node: 'home', iface: 'lan', mac: MAC.homeLan, packets: parts.map((p) => p.lan[1] as Packet) },
    { node: 'home', iface: 'access', mac: MAC.homeWan, packets: parts.map((p) => p.wan[0] as Packet) },
    { node: 'isp', iface: 'access', mac: MAC.isp, packets: parts.map((p) => p.wan[1] as Packet) },
  ];
  const conntrack = parseConntrack(
    'tcp      6 117 ESTABLISHED src=192.168.1.101 dst=198.51.100.80 sport=40000 dport=80 src=198.51.100.80 dst=203.0.113.5 sport=80 dport=40000 [ASSURED] mark=0 use=1',
  );
  return {
    obs,
    views: [
      { node: 'alice', addresses: ['192.168.1.101'], conntrack: [] },
      { node: 'home', addresses: ['192.168.1.1', '203.0.113.5'], conntrack },
      { node: 'isp', addresses: ['203.0.113.1'], conntrack: [] },
    ],
  };
}

describe('the matcher on hand-made frames', () => {
  it('matches through NAT by conntrack, and a retransmission (a new IP ID) is a trip of its own', () => {
    const { obs, views } = world([natPath(100, 1, 10), natPath(101, 1, 10.2)]);
    const j = follow(obs, views);
    expect(j.trips).toHaveLength(2);
    for (const t of j.trips) expect(t.hops.map((h) => h.matchedBy)).toEqual(['conntrack']);
    expect(j.flows).toHaveLength(1);
  });

  it('keeps reordered packets apart by their fields, not their order', () => {
    const a = natPath(200, 1, 20, 'first');
    const b = natPath(201, 6, 20.0001, 'second');
    // b overtakes a between home and isp.
    a.wan = a.wan.map((p) => ({ ...p, time: p.time + 0.001 }));
    const { obs, views } = world([a, b]);
    const j = follow(obs, views);
    expect(j.trips).toHaveLength(2);
    const apps = j.trips.map((t) => new Set(t.sightings.map((s) => s.packet.digest)).size);
    expect(apps).toEqual([1, 1]);
  });

  it('does not join two packets that share an IP ID but differ in payload', () => {
    const { obs, views } = world([natPath(300, 1, 30, 'aaaa'), natPath(300, 5, 30.00001, 'bbbb')]);
    const j = follow(obs, views);
    expect(j.trips).toHaveLength(2);
    for (const t of j.trips) expect(new Set(t.sightings.map((s) => s.packet.digest)).size).toBe(1);
  });

  it('refuses a translation that no NAT state explains when two packets could fit', () => {
    const { obs, views } = world([natPath(400, 1, 40, 'z'), natPath(400, 1, 40.00001, 'z')]);
    views[1] = { ...(views[1] as NodeView), conntrack: [] };
    const j = follow(obs, views);
    expect(j.trips.flatMap((t) => t.hops)).toHaveLength(0);
  });

  it('says where a packet died: arrived at home, never left', () => {
    const p = natPath(500, 1, 50);
    const obs: Observation[] = [
      { node: 'alice', iface: 'lan', mac: MAC.alice, packets: [p.lan[0] as Packet] },
      { node: 'home', iface: 'lan', mac: MAC.homeLan, packets: [p.lan[1] as Packet] },
    ];
    const j = follow(obs, world([]).views);
    expect(j.trips[0]?.fate).toEqual({ kind: 'died', node: 'home', iface: 'lan' });
  });

  it('groups the fragments of a datagram with the datagram', () => {
    const whole = frame({
      src: '192.168.1.101',
      dst: '198.51.100.80',
      smac: MAC.alice,
      dmac: MAC.homeLan,
      ttl: 64,
      id: 600,
      sport: 40000,
      dport: 80,
      seq: 1,
      data: 'y'.repeat(100),
      df: false,
    });
    const f1 = frame({
      src: '203.0.113.5',
      dst: '198.51.100.80',
      smac: MAC.homeWan,
      dmac: MAC.isp,
      ttl: 63,
      id: 600,
      sport: 40000,
      dport: 80,
      seq: 1,
      data: 'y'.repeat(40),
      df: false,
      mf: true,
    });
    // A later fragment: no transport header, only the rest of the payload.
    const f2 = frame({
      src: '203.0.113.5',
      dst: '198.51.100.80',
      smac: MAC.homeWan,
      dmac: MAC.isp,
      ttl: 63,
      id: 600,
      sport: 0x7979,
      dport: 0x7979,
      seq: 0x79797979,
      data: 'y'.repeat(60),
      df: false,
      frag: 48,
    });
    const obs: Observation[] = [
      { node: 'alice', iface: 'lan', mac: MAC.alice, packets: [pkt(whole, 60)] },
      { node: 'home', iface: 'lan', mac: MAC.homeLan, packets: [pkt(whole, 60.0001)] },
      { node: 'home', iface: 'access', mac: MAC.homeWan, packets: [pkt(f1, 60.0002), pkt(f2, 60.0003)] },
    ];
    const j = follow(obs, world([]).views);
    expect(j.trips).toHaveLength(1);
    expect(j.trips[0]?.sightings.filter((x) => x.dir === 'out' && x.node === 'home')).toHaveLength(2);
    expect(j.trips[0]?.hops[0]?.changes.map((c) => c.field)).toContain('fragments');
  });
});

describe('pieces', () => {
  it('round-trips a pcap file and reports a cut-off one', () => {
    const rec = {
      time: 1700000000.5,
      data: frame({
        src: '1.2.3.4',
        dst: '5.6.7.8',
        smac: MAC.alice,
        dmac: MAC.isp,
        ttl: 9,
        id: 1,
        sport: 1,
        dport: 2,
        seq: 3,
      }),
      wireLength: 54,
    };
    const file = writePcapFile(1, 320, [rec, rec]);
    const back = readPcapFile(file);
    expect(back.records).toHaveLength(2);
    expect(back.records[0]?.time).toBeCloseTo(rec.time, 5);
    expect(readPcapFile(file.subarray(0, file.length - 3))).toMatchObject({ truncated: true });
    expect(() => readPcapFile(Buffer.alloc(40))).toThrow(/not a pcap file/);
  });

  it('reads where an FTP data connection goes from PORT, EPRT, 227 and 229', () => {
    expect(ftpDataTarget('FTP PORT 192,168,1,101,201,23')).toEqual({
      address: '192.168.1.101',
      port: 201 * 256 + 23,
      active: true,
      command: 'PORT',
    });
    expect(ftpDataTarget('FTP EPRT |1|192.168.1.101|40001|')).toMatchObject({
      address: '192.168.1.101',
      port: 40001,
      active: true,
    });
    expect(ftpDataTarget('FTP 227 Entering Passive Mode (198,51,100,80,117,48).')).toMatchObject({
      address: '198.51.100.80',
      port: 30000,
      active: false,
    });
    expect(ftpDataTarget('FTP 229 Entering Extended Passive Mode (|||30001|)')).toEqual({
      port: 30001,
      active: false,
      command: '229',
    });
    expect(ftpDataTarget('FTP 230 Login successful.')).toBeUndefined();
  });

  it('reads conntrack lines, with icmp echo ids as ports', () => {
    const [e] = parseConntrack(
      'icmp     1 29 src=192.168.1.101 dst=198.51.100.80 type=8 code=0 id=7 src=198.51.100.80 dst=203.0.113.5 type=0 code=0 id=7 mark=0 use=1',
    );
    expect(e).toMatchObject({ proto: 1, orig: { src: '192.168.1.101', sport: 7 }, reply: { dst: '203.0.113.5' } });
  });

  it('summarises DNS questions and answers', () => {
    const name = Buffer.concat(
      ['web', 'bob', 'example']
        .map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]))
        .concat(Buffer.from([0])),
    );
    const head = (flags: number, answers: number) =>
      Buffer.from([0x12, 0x34, flags >> 8, flags & 0xff, 0, 1, 0, answers, 0, 0, 0, 0]);
    const question = Buffer.concat([name, Buffer.from([0, 1, 0, 1])]);
    expect(dnsSummary(Buffer.concat([head(0x0100, 0), question]))).toBe('DNS A? web.bob.example');
    // The answer points back at the question's name (compression) and carries a TTL of 300.
    const answer = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 198, 51, 100, 80]);
    expect(dnsSummary(Buffer.concat([head(0x8180, 1), question, answer]))).toBe(
      'DNS web.bob.example A 198.51.100.80 ttl 300',
    );
    expect(dnsSummary(Buffer.concat([head(0x8183, 0), question]))).toBe('DNS web.bob.example: NXDOMAIN');
  });

  it('names the rule whose drop counter rose, by table, chain and position', () => {
    const before =
      '*filter\n:FORWARD ACCEPT [0:0]\n[0:0] -A FORWARD -p tcp --dport 22 -j ACCEPT\n[2:120] -A FORWARD -p tcp --dport 80 -j DROP\nCOMMIT';
    const after = before.replace(
      '[2:120] -A FORWARD -p tcp --dport 80 -j DROP',
      '[5:300] -A FORWARD -p tcp --dport 80 -j DROP',
    );
    expect(parseCounters(after).map((r) => r.position)).toEqual([0, 1, 2]);
    const rose = droppingRulesThatRose(before, after);
    expect(rose).toEqual([expect.objectContaining({ chain: 'FORWARD', position: 2, rose: 3 })]);
    const p = natPath(1, 1, 1).lan[1] as Packet;
    const d = diagnose(
      p,
      'home',
      { node: 'home', firewallBefore: before, firewallAfter: after, interfaces: [] },
      '@@hn route\n198.51.100.80 from 192.168.1.101 via 203.0.113.1 dev access\n@@hn forward\n1',
    );
    expect(d).toMatchObject({ reason: 'firewall' });
    expect(d.summary).toContain('filter FORWARD rule 2');
  });

  it('diagnoses no route, forwarding off and TTL', () => {
    const p = natPath(1, 1, 1).lan[1] as Packet;
    const router = { node: 'isp', firewallBefore: '', firewallAfter: '', interfaces: [] };
    expect(
      diagnose(p, 'access', router, '@@hn route\nRTNETLINK answers: Network is unreachable\n@@hn forward\n1').reason,
    ).toBe('no route');
    expect(diagnose(p, 'access', router, '@@hn route\nx via 1.2.3.4 dev y\n@@hn forward\n0').reason).toBe(
      'forwarding off',
    );
    const dying = { ...p, ip: { ...(p.ip as NonNullable<Packet['ip']>), ttl: 1 } };
    expect(diagnose(dying, 'access', router, '').reason).toBe('ttl');
  });

  it('takes a story, or a command after "--", and explains anything else', () => {
    expect(journeyCommand(['web'], { active: false, explicit: false })).toContain('http://web.bob.example/');
    expect(journeyCommand(['ftp'], { active: true, explicit: false })).toContain('-P');
    expect(journeyCommand(['ping', '-c', '1', 'x'], { active: false, explicit: true })).toEqual([
      'ping',
      '-c',
      '1',
      'x',
    ]);
    expect(() => journeyCommand(['curl', 'x'], { active: false, explicit: false })).toThrow(UsageError);
    expect(() => journeyCommand([], { active: false, explicit: false })).toThrow(/say what to follow/);
  });
});
