// A lab's own certificate authority (labs 10 and 14), computed in TypeScript: Ed25519 keys derived
// from the learner's seed, and X.509 v3 certificates written with a minimal DER encoder. Ed25519
// signatures are deterministic, so the same seed gives byte-identical CA certificates in every
// process: the faults install them on the nodes at start, and the grader recomputes the root it
// trusts on its own, without reading it from any node the learner could change.
import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';

// ---- DER --------------------------------------------------------------------------------------------

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), len(content.length), content]);
}

const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const explicit = (n: number, inner: Buffer) => tlv(0xa0 + n, inner);
const octets = (b: Buffer) => tlv(0x04, b);
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));

/** A non-negative INTEGER from big-endian bytes (a leading zero keeps it positive). */
function uint(bytes: Buffer): Buffer {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && ((b[1] as number) & 0x80) === 0) b = b.subarray(1);
  if (((b[0] as number) & 0x80) !== 0) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const body: number[] = [40 * (parts[0] as number) + (parts[1] as number)];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    body.push(...chunk);
  }
  return tlv(0x06, Buffer.from(body));
}

function bitString(bytes: Buffer, unusedBits = 0): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

/** UTCTime up to 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
function time(d: Date): Buffer {
  const iso = d.toISOString(); // 2026-11-25T11:57:37.679Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, ''); // 20261125115737
  return d.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`))
    : tlv(0x18, Buffer.from(`${digits}Z`));
}

// ---- keys -------------------------------------------------------------------------------------------

const ED25519 = '1.3.101.112';
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** PKCS#8 PEM, as openssl writes it. */
  pem: string;
}

/** An Ed25519 key pair derived from a label: the same label always gives the same key. */
export function deriveKey(label: string): KeyPair {
  const seed = createHash('sha256').update(`hurrynet lab ca key:${label}`).digest();
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  return {
    privateKey,
    publicKey: createPublicKey(privateKey),
    pem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

// ---- certificates -----------------------------------------------------------------------------------

export interface DistinguishedName {
  organization: string;
  commonName: string;
}

function name(dn: DistinguishedName): Buffer {
  const rdn = (type: string, value: string) => set(seq(oid(type), utf8(value)));
  return seq(rdn('2.5.4.10', dn.organization), rdn('2.5.4.3', dn.commonName));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

/** The key identifier of RFC 5280 4.2.1.2 (1): SHA-1 of the subjectPublicKey bits. */
function keyId(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // An Ed25519 SubjectPublicKeyInfo is 12 bytes of header, then the 32-byte key.
  return createHash('sha1')
    .update(spki.subarray(spki.length - 32))
    .digest();
}

export interface CertificateSpec {
  serial: Buffer;
  subject: DistinguishedName;
  issuer: DistinguishedName;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  /** The issuer's key: signs the certificate (the subject's own key for a self-signed root). */
  signingKey: KeyPair;
  /** A CA certificate (with the path length it allows below it), or a server certificate for these DNS names. */
  ca?: { pathLength?: number };
  dnsNames?: string[];
}

export function certificateDer(spec: CertificateSpec): Buffer {
  const algorithm = seq(oid(ED25519));
  const extensions: Buffer[] = [];
  if (spec.ca) {
    const path = spec.ca.pathLength === undefined ? [] : [uint(Buffer.from([spec.ca.pathLength]))];
    extensions.push(extension('2.5.29.19', true, seq(bool(true), ...path)));
    // keyCertSign (bit 5) and cRLSign (bit 6): 0b0000011x, one unused bit.
    extensions.push(extension('2.5.29.15', true, bitString(Buffer.from([0x06]), 1)));
  } else {
    extensions.push(extension('2.5.29.19', true, seq()));
    // digitalSignature (bit 0), seven unused bits.
    extensions.push(extension('2.5.29.15', true, bitString(Buffer.from([0x80]), 7)));
    extensions.push(extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))));
    const names = (spec.dnsNames ?? []).map((n) => tlv(0x82, Buffer.from(n, 'ascii')));
    if (names.length) extensions.push(extension('2.5.29.17', false, seq(...names)));
  }
  extensions.push(extension('2.5.29.14', false, octets(keyId(spec.publicKey))));
  extensions.push(extension('2.5.29.35', false, seq(tlv(0x80, keyId(spec.signingKey.publicKey)))));
  const tbs = seq(
    explicit(0, uint(Buffer.from([2]))),
    uint(spec.serial),
    algorithm,
    name(spec.issuer),
    seq(time(spec.notBefore), time(spec.notAfter)),
    name(spec.subject),
    spec.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...extensions)),
  );
  const signature = sign(null, tbs, spec.signingKey.privateKey);
  return seq(tbs, algorithm, bitString(signature));
}

export function pem(der: Buffer, label = 'CERTIFICATE'): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
