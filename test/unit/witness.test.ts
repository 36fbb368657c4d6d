// The grader's witnesses: the sidecar's command and labels, the TCP sessions read from a capture
// (a real one from a solved lab 14 world, and built ones for the edge cases), and lab 14's use of
// them: which messages in Bob's mailbox really crossed the ISP from Alice's side.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeSessions, tcpSessions } from '../../checks/packets/sessions.js';
import { LINKTYPE, writePcapFile, type PcapRecord } from '../../checks/packets/pcap.js';
import lab, {
  aliceSessions,
  ALICE_PUBLIC,
  carriedSubject,
  MAIL_PUBLIC,
  minTlsBytes,
  neverCrossed,
  carriesTls,
  witnessed,
  receivedAt,
  tlsVouchers,
  during,
  type Message,
} from '../../labs/14-email/lab.js';
import { varsFor } from '../../orchestrator/labs/lab.js';
import { witnessCommand, witnessLabels } from '../../orchestrator/labs/witness.js';
import { LABEL } from '../../orchestrator/runtime/plan.js';
import { canonicalWorld } from '../../orchestrator/world/world.js';

/** From a solved seed-a world: the grader's empty probe, the hand message by nc, the grader's STARTTLS handshake. */
const REAL = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'witness', 'lab14-smtp.pcap'));

// ---- building captures ------------------------------------------------------------------------

function ip4(a: string): Buffer {
  return Buffer.from(a.split('.').map(Number));
}

/** An Ethernet frame with IPv4 and TCP (no options) carrying `data`. */
function frame(
  src: string,
  sport: number,
  dst: string,
  dport: number,
  seq: number,
  flags: number,
  data: Buffer = Buffer.alloc(0),
) {
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 20 + data.length, 2);
  ip[8] = 64;
  ip[9] = 6;
  ip4(src).copy(ip, 12);
  ip4(dst).copy(ip, 16);
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(sport, 0);
  tcp.writeUInt16BE(dport, 2);
  tcp.writeUInt32BE(seq >>> 0, 4);
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  return Buffer.concat([eth, ip, tcp, data]);
}
const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08 | ACK;

type Seg = { from: 'c' | 's'; seq: number; flags: number; data?: Buffer | string };

function capture(segs: Seg[], client = ALICE_PUBLIC, cport = 40000, server = MAIL_PUBLIC, sport = 25): Buffer {
  const records: PcapRecord[] = segs.map((s, i) => {
    const data = typeof s.data === 'string' ? Buffer.from(s.data, 'latin1') : (s.data ?? Buffer.alloc(0));
    const f =
      s.from === 'c'
        ? frame(client, cport, server, sport, s.seq, s.flags, data)
        : frame(server, sport, client, cport, s.seq, s.flags, data);
    return { time: 1000 + i, data: f, wireLength: f.length };
  });
  return writePcapFile(LINKTYPE.ethernet, 65535, records);
}

/** A TLS record header and body: type, TLS 1.2 on the wire, `size` bytes. */
const record = (type: number, size: number) => {
  const b = Buffer.alloc(5 + size, 0x41);
  b[0] = type;
  b[1] = 3;
  b[2] = 3;
  b.writeUInt16BE(size, 3);
  return b;
};

/** `bytes` of records of one type, at most 16 000 bytes each (TLS's limit is 16 kB). */
const big = (bytes: number, type = 23): [number, number][] =>
  Array.from({ length: Math.ceil(bytes / 16_000) }, (_, i) => [type, Math.min(16_000, bytes - i * 16_000)]);

/** A STARTTLS session from Alice: the clear part, then `records` of the given types and sizes. */
function tlsSession(records: [type: number, size: number][]): Buffer {
  const C = 1000;
  const S = 5000;
  const clear = 'EHLO alice\r\nSTARTTLS\r\n';
  const segs: Seg[] = [
    { from: 'c', seq: C, flags: SYN },
    { from: 's', seq: S, flags: SYN | ACK },
    { from: 's', seq: S + 1, flags: PSH, data: '220 mail.bob.example ESMTP\r\n' },
    { from: 'c', seq: C + 1, flags: PSH, data: clear },
  ];
  let at = C + 1 + clear.length;
  for (const [type, size] of records) {
    const r = record(type, size);
    // Big records go as several segments, as TCP cuts them.
    for (let o = 0; o < r.length; o += 1448) {
      const part = r.subarray(o, o + 1448);
      segs.push({ from: 'c', seq: at, flags: PSH, data: part });
      at += part.length;
    }
  }
  return capture(segs);
}

/** Postfix's date at the end of its Received header, for a time in seconds. */
const postfixDate = (at: number) => new Date(Math.floor(at) * 1000).toUTCString().replace('GMT', '+0000 (UTC)');

const message = (subject: string, bytes: number, tls: boolean, at = 1000, id = '709F21EA111'): Message => ({
  subject,
  bytes,
  received: `from alice (unknown [${ALICE_PUBLIC}]) ${tls ? '(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)) ' : ''}by mail.bob.example (Postfix) with ESMTP${tls ? 'S' : ''} id ${id} for <bob@bob.example>; ${postfixDate(at)}`,
});

// ---- the sidecar ------------------------------------------------------------------------------

describe('witness sidecars', () => {
  it('capture with the filter on the interface asked, losing nothing, for a long life', () => {
    const cmd = witnessCommand({ node: 'isp', iface: 'access', filter: 'tcp port 25 and host 198.51.100.25' }).join(
      ' ',
    );
    expect(cmd).toMatch(/timeout 43200 tcpdump -Z root -U --immediate-mode /);
    expect(cmd).toContain("-i 'access'");
    expect(cmd).toContain("'tcp port 25 and host 198.51.100.25'");
    expect(witnessCommand({ node: 'isp', filter: "port 'x'" }).join(' ')).toContain("-i 'any'");
  });

  it("carry the instance's labels and kind probe, so that stop removes them and status ignores them", () => {
    const labels = witnessLabels('wit', 'isp');
    expect(labels).toMatchObject({ [LABEL.instance]: 'wit', [LABEL.kind]: 'probe', [LABEL.node]: 'isp' });
    expect(labels[LABEL.project]).toBeTruthy();
  });

  it("lab 14 keeps one on the ISP's access link, for SMTP to Bob's public address", () => {
    const v = varsFor(lab, 'seed-a');
    expect(lab.witnesses?.(v, lab.overlay!(canonicalWorld, v))).toEqual([
      { node: 'isp', iface: 'access', filter: `tcp port 25 and host ${MAIL_PUBLIC}` },
    ]);
  });
});

// ---- sessions ---------------------------------------------------------------------------------

describe('TCP sessions in a capture', () => {
  it('reads a real capture: who opened each session, the bytes, the clear text and where TLS began', () => {
    const sessions = tcpSessions(REAL);
    expect(sessions.map((s) => s.clientPort)).toEqual([36624, 36656, 53558]);
    expect(sessions.every((s) => s.client === ALICE_PUBLIC && s.server === MAIL_PUBLIC && s.opened)).toBe(true);
    const [probe, hand, grader] = sessions as [(typeof sessions)[0], (typeof sessions)[0], (typeof sessions)[0]];
    expect(probe.clientBytes).toBe(0);
    expect(hand).toMatchObject({ clientBytes: 189, serverBytes: 345 });
    expect(hand.clientText).toMatch(/^Subject: hello bob 1272\r$/m);
    expect(hand.serverText).toMatch(/^220 mail\.bob\.example/);
    expect(hand.clientTlsAt).toBeUndefined();
    // The grader's own openssl s_client: ClientHello, ChangeCipherSpec, then Finished and close_notify.
    expect(grader).toMatchObject({ clientText: 'EHLO grader.isp.example\r\nSTARTTLS\r\n', clientTlsAt: 35 });
    expect(grader.clientTlsRecords).toEqual([22, 20, 23, 23]);
    expect(describeSessions(sessions)).toMatch(/36656 -> 198\.51\.100\.25:25: the client sent 189 bytes/);
  });

  it('counts a retransmitted segment once, and a new SYN on the same ports as a new session', () => {
    const pcap = capture([
      { from: 'c', seq: 10, flags: SYN },
      { from: 's', seq: 90, flags: SYN | ACK },
      { from: 's', seq: 91, flags: PSH, data: '220 hi\r\n' },
      { from: 'c', seq: 11, flags: PSH, data: 'EHLO a\r\n' },
      { from: 'c', seq: 11, flags: PSH, data: 'EHLO a\r\n' },
      { from: 'c', seq: 19, flags: PSH, data: 'QUIT\r\n' },
      { from: 'c', seq: 10, flags: SYN },
      { from: 'c', seq: 5000, flags: SYN },
      { from: 'c', seq: 5001, flags: PSH, data: 'EHLO b\r\n' },
    ]);
    const [a, b] = tcpSessions(pcap);
    expect(tcpSessions(pcap)).toHaveLength(2);
    expect(a).toMatchObject({
      clientBytes: 14,
      serverBytes: 8,
      clientText: 'EHLO a\r\nQUIT\r\n',
      serverText: '220 hi\r\n',
    });
    expect(b).toMatchObject({ clientBytes: 8, clientText: 'EHLO b\r\n' });
  });

  it('takes a session whose start was not captured, the client being on the higher port', () => {
    const pcap = capture([{ from: 's', seq: 7, flags: PSH, data: '250 ok\r\n' }]);
    expect(tcpSessions(pcap)[0]).toMatchObject({
      client: ALICE_PUBLIC,
      clientPort: 40000,
      opened: false,
      serverBytes: 8,
    });
    expect(tcpSessions(Buffer.alloc(0))).toEqual([]);
  });

  it('counts the encrypted bytes and the TLS records after STARTTLS, and stops the clear text there', () => {
    const s = tcpSessions(tlsSession([[22, 300], [20, 1], [23, 60], [23, 40], ...big(200_000), [23, 20]]))[0]!;
    expect(s.clientText).toBe('EHLO alice\r\nSTARTTLS\r\n');
    expect(s.clientTlsAt).toBe(22);
    expect(s.clientTlsRecords).toEqual([22, 20, 23, 23, ...big(200_000).map(([t]) => t), 23]);
    expect(s.clientBytes - s.clientTlsAt!).toBe(
      5 * 5 + 300 + 1 + 60 + 40 + 200_000 + Math.ceil(200_000 / 16_000) * 5 + 20,
    );
  });
});

// ---- lab 14 -----------------------------------------------------------------------------------

describe("lab 14: what the witness saw of Bob's mailbox", () => {
  const real = tcpSessions(REAL);

  it('sees the hand-typed message in the clear, and not one written on the mail server', () => {
    const at = real[1]!.start;
    expect(aliceSessions(real)).toHaveLength(3);
    expect(witnessed(message('hello bob 1272', 358, false, at), real)).toBe(true);
    expect(witnessed(message('hello bob 9999', 358, false, at), real)).toBe(false);
    expect(carriedSubject(real[1]!, 'hello bob 127')).toBe(false);
    // A forged "using TLS": the only TLS session from Alice is the grader's own bare handshake.
    expect(witnessed(message('hello bob 1272', 358, true, at), real)).toBe(false);
    // The same subject, dated by a forged header an hour later: no session was open then.
    expect(witnessed(message('hello bob 1272', 358, false, at + 3600), real)).toBe(false);
    expect(neverCrossed('x')).toMatch(/never crossed the network from Alice's side.*written on the mail server itself/);
  });

  it('sees a big message over STARTTLS only in a TLS session that carried at least its size', () => {
    const photo = message('birthday 1669', 203_592, true);
    const sent = tcpSessions(tlsSession([[22, 300], [20, 1], [23, 60], [23, 40], [23, 60], ...big(206_000), [23, 20]]));
    expect(witnessed(photo, sent)).toBe(true);
    const small = tcpSessions(
      tlsSession([
        [22, 300],
        [20, 1],
        [23, 60],
        [23, 40],
        [23, 60],
        [23, 5_000],
        [23, 20],
      ]),
    );
    expect(witnessed(photo, small)).toBe(false);
    expect(aliceSessions(small).some((s) => carriesTls(s, 700))).toBe(true);
    // Enough bytes but only a handshake's records: not a mail transaction.
    const bare = tcpSessions(tlsSession([[22, 300], [20, 1], ...big(210_000, 22), [23, 20], [23, 20]]));
    expect(witnessed(photo, bare)).toBe(false);
    expect(minTlsBytes(1000)).toBe(0);
  });

  it('ignores sessions from elsewhere and sessions the server never answered', () => {
    const other = tcpSessions(
      capture(
        [
          { from: 'c', seq: 1, flags: SYN },
          { from: 's', seq: 1, flags: PSH, data: '220 x\r\n' },
          { from: 'c', seq: 2, flags: PSH, data: 'Subject: hello bob 1272\r\n' },
        ],
        '10.0.1.10',
      ),
    );
    expect(witnessed(message('hello bob 1272', 358, false, 1000), other)).toBe(false);
    const silent = tcpSessions(capture([{ from: 'c', seq: 2, flags: PSH, data: 'Subject: hello bob 1272\r\n' }]));
    expect(aliceSessions(silent)).toEqual([]);
  });

  it("reads Postfix's date, and wants each message over TLS in a session of its own, open at that date", () => {
    expect(receivedAt(message('x', 1, true, 1_764_780_601))).toBe(1_764_780_601);
    expect(receivedAt({ subject: 'x', bytes: 1, received: 'from alice by mail.bob.example' })).toBeUndefined();
    const photo = message('birthday 1669', 203_592, true, 1000, 'AAA1');
    const hand = message('hello bob 1272', 400, true, 1001, 'BBB2');
    const one = tcpSessions(tlsSession([[22, 300], [20, 1], [23, 60], [23, 40], [23, 60], ...big(206_000), [23, 20]]));
    // One real session: it vouches for one of the two, never for both (the other was written on the server).
    const vouched = tlsVouchers([photo, hand], one);
    expect(vouched.size).toBe(1);
    expect(vouched.has(photo)).toBe(true);
    expect(witnessed(hand, one, [photo, hand])).toBe(false);
    // Alone in the mailbox, the small one would pass on the big session; it is not alone.
    expect(witnessed(hand, one, [hand])).toBe(true);
    // Dated outside the session's time: not vouched.
    expect(witnessed(message('birthday 1669', 203_592, true, 5000), one)).toBe(false);
    expect(during(one[0]!, one[0]!.end + 2)).toBe(true);
    expect(during(one[0]!, undefined)).toBe(false);
  });

  it('matches two TLS messages to two sessions, whichever order they come in', () => {
    const small = tlsSession([
      [22, 300],
      [20, 1],
      [23, 60],
      [23, 40],
      [23, 60],
      [23, 400],
      [23, 20],
    ]);
    const large = tlsSession([[22, 300], [20, 1], [23, 60], [23, 40], [23, 60], ...big(206_000), [23, 20]]);
    // Two sessions in one capture: the small one first, on another client port.
    const sessions = [...tcpSessions(small), ...tcpSessions(large).map((s) => ({ ...s, clientPort: 40001 }))];
    const hand = message('hello bob 1272', 400, true, 1002, 'BBB2');
    const photo = message('birthday 1669', 203_592, true, 1003, 'AAA1');
    // The small message could take either; the big one only the large session.
    const vouched = tlsVouchers([hand, photo], sessions);
    expect(vouched.size).toBe(2);
    expect(vouched.get(photo)?.clientPort).toBe(40001);
    expect(witnessed(hand, sessions, [hand, photo])).toBe(true);
  });
});
