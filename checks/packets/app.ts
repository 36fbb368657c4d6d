// One line about what a packet carries, for the application protocols of the story: DNS
// questions and answers (with TTLs), HTTP request and status lines, FTP commands and replies,
// and TLS record types. Reads only the captured bytes; says nothing when it cannot tell.
import type { Packet } from './decode.js';

const DNS_TYPES: Record<number, string> = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  12: 'PTR',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
};
const RCODES: Record<number, string> = { 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED' };

/** A (possibly compressed) DNS name at o, and the offset after it. */
function dnsName(b: Buffer, o: number, depth = 0): { name: string; next: number } | undefined {
  const labels: string[] = [];
  let next = -1;
  for (let guard = 0; guard < 128; guard++) {
    const len = b[o];
    if (len === undefined) return undefined;
    if (len === 0) return { name: labels.join('.') || '.', next: next < 0 ? o + 1 : next };
    if ((len & 0xc0) === 0xc0) {
      if (depth > 8 || o + 1 >= b.length) return undefined;
      if (next < 0) next = o + 2;
      o = ((len & 0x3f) << 8) | (b[o + 1] ?? 0);
      depth++;
      continue;
    }
    if (o + 1 + len > b.length) return undefined;
    labels.push(b.toString('latin1', o + 1, o + 1 + len));
    o += 1 + len;
  }
  return undefined;
}

/** "A? web.bob.example" for a question, "web.bob.example A 198.51.100.80 ttl 300" for an answer. */
export function dnsSummary(b: Buffer): string | undefined {
  if (b.length < 12) return undefined;
  const flags = b.readUInt16BE(2);
  const response = (flags & 0x8000) !== 0;
  const qd = b.readUInt16BE(4);
  const an = b.readUInt16BE(6);
  if (qd < 1) return undefined;
  const q = dnsName(b, 12);
  if (!q || q.next + 4 > b.length) return response ? `DNS answer id ${b.readUInt16BE(0)}` : undefined;
  const qtype = DNS_TYPES[b.readUInt16BE(q.next)] ?? `type ${b.readUInt16BE(q.next)}`;
  if (!response) return `DNS ${qtype}? ${q.name}`;
  const rcode = flags & 0x0f;
  if (rcode) return `DNS ${q.name}: ${RCODES[rcode] ?? `rcode ${rcode}`}`;
  const answers: string[] = [];
  let o = q.next + 4;
  for (let i = 0; i < an && answers.length < 4; i++) {
    const n = dnsName(b, o);
    if (!n || n.next + 10 > b.length) break;
    const type = b.readUInt16BE(n.next);
    const ttl = b.readUInt32BE(n.next + 4);
    const rdlen = b.readUInt16BE(n.next + 8);
    const rd = n.next + 10;
    if (rd + rdlen > b.length) break;
    if (type === 1 && rdlen === 4)
      answers.push(`${n.name} A ${b[rd]}.${b[rd + 1]}.${b[rd + 2]}.${b[rd + 3]} ttl ${ttl}`);
    else if (type === 5) answers.push(`${n.name} CNAME ${dnsName(b, rd)?.name ?? '?'} ttl ${ttl}`);
    else answers.push(`${n.name} ${DNS_TYPES[type] ?? `type ${type}`} ttl ${ttl}`);
    o = rd + rdlen;
  }
  return answers.length ? `DNS ${answers.join(', ')}` : `DNS ${q.name}: no ${qtype} record`;
}

const TLS_CONTENT: Record<number, string> = {
  20: 'ChangeCipherSpec',
  21: 'Alert',
  22: 'Handshake',
  23: 'Application Data',
};
const TLS_HANDSHAKE: Record<number, string> = {
  1: 'ClientHello',
  2: 'ServerHello',
  4: 'NewSessionTicket',
  8: 'EncryptedExtensions',
  11: 'Certificate',
  12: 'ServerKeyExchange',
  14: 'ServerHelloDone',
  16: 'ClientKeyExchange',
  20: 'Finished',
};

export function tlsSummary(b: Buffer): string | undefined {
  const content = b[0];
  if (content === undefined || !TLS_CONTENT[content] || b[1] !== 3 || b.length < 5) return undefined;
  if (content === 22 && b.length >= 6) return `TLS ${TLS_HANDSHAKE[b[5] ?? 0] ?? 'Handshake'}`;
  return `TLS ${TLS_CONTENT[content]}`;
}

const HTTP_START = /^(GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH|CONNECT) \S+ HTTP\/1\.[01]|^HTTP\/1\.[01] \d{3}[^\r\n]*/;

/** The first line of a text protocol, when the bytes look like one. */
function firstLine(b: Buffer): string | undefined {
  const text = b.toString('latin1', 0, Math.min(b.length, 200));
  const line = text.split(/\r?\n/)[0] ?? '';
  return line && /^[\x20-\x7e]+$/.test(line) ? line.slice(0, 80) : undefined;
}

export function appSummary(p: Packet, payload: Buffer): string | undefined {
  if (!payload.length) return undefined;
  const ports = p.tcp ?? p.udp;
  if (!ports) return undefined;
  const on = (port: number) => ports.sport === port || ports.dport === port;
  // DNS over TCP has a two-byte length in front.
  if (on(53)) return dnsSummary(p.tcp ? payload.subarray(2) : payload);
  const http = HTTP_START.exec(payload.toString('latin1', 0, Math.min(payload.length, 200)));
  if (http) return http[0];
  if (p.tcp && on(21)) {
    const line = firstLine(payload);
    // The password is the learner's: never print it.
    return line ? `FTP ${line.replace(/^PASS .*/i, 'PASS ****')}` : undefined;
  }
  if (p.tcp) return tlsSummary(payload);
  return undefined;
}
