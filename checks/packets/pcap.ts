// Classic pcap files as `tcpdump -w` writes them: a 24-byte file header, then records of a 16-byte
// header and the captured bytes. Both byte orders, micro- and nanosecond timestamps. The one reader
// of capture files in hurrynet: the journey and the grader's capture checks both use it.

export const LINKTYPE = { ethernet: 1, raw: 101, linuxSll: 113, ipv4: 228, linuxSll2: 276 } as const;

export interface PcapRecord {
  /** Capture time in seconds since the epoch (with fractions). */
  time: number;
  /** The captured bytes (at most the snap length). */
  data: Buffer;
  /** The frame's length on the wire. */
  wireLength: number;
}

export interface PcapFile {
  linkType: number;
  snapLength: number;
  records: PcapRecord[];
  /** Set when the file ends in the middle of a record (the writer was stopped mid-write). */
  truncated: boolean;
}

export class PcapError extends Error {}

const MAGIC_MICRO = 0xa1b2c3d4;
const MAGIC_NANO = 0xa1b23c4d;
const PCAPNG = 0x0a0d0d0a;

/** Reads a classic pcap file; a file cut short keeps every whole record and says so. */
export function readPcapFile(data: Buffer): PcapFile {
  if (data.length < 24) throw new PcapError('the file is too short to be a packet capture');
  const le = data.readUInt32LE(0) === MAGIC_MICRO || data.readUInt32LE(0) === MAGIC_NANO;
  const be = data.readUInt32BE(0) === MAGIC_MICRO || data.readUInt32BE(0) === MAGIC_NANO;
  if (!le && !be) {
    if (data.readUInt32LE(0) === PCAPNG)
      throw new PcapError('this is a pcapng file; write the capture with tcpdump -w, which writes classic pcap');
    throw new PcapError(
      'this is not a pcap file (it does not start with the pcap magic number); write it with tcpdump -w',
    );
  }
  const u32 = (o: number) => (le ? data.readUInt32LE(o) : data.readUInt32BE(o));
  const nano = u32(0) === MAGIC_NANO;
  const records: PcapRecord[] = [];
  let off = 24;
  let truncated = false;
  while (off < data.length) {
    if (off + 16 > data.length) {
      truncated = true;
      break;
    }
    const captured = u32(off + 8);
    if (off + 16 + captured > data.length) {
      truncated = true;
      break;
    }
    records.push({
      time: u32(off) + u32(off + 4) / (nano ? 1e9 : 1e6),
      data: data.subarray(off + 16, off + 16 + captured),
      wireLength: u32(off + 12),
    });
    off += 16 + captured;
  }
  return { linkType: u32(20) & 0x0fffffff, snapLength: u32(16), records, truncated };
}

/** Writes records as a classic little-endian microsecond pcap file (for Wireshark). */
export function writePcapFile(linkType: number, snapLength: number, records: PcapRecord[]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(MAGIC_MICRO, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(snapLength, 16);
  head.writeUInt32LE(linkType, 20);
  const parts: Buffer[] = [head];
  for (const r of records) {
    const h = Buffer.alloc(16);
    const seconds = Math.floor(r.time);
    h.writeUInt32LE(seconds, 0);
    h.writeUInt32LE(Math.min(999999, Math.round((r.time - seconds) * 1e6)), 4);
    h.writeUInt32LE(r.data.length, 8);
    h.writeUInt32LE(r.wireLength, 12);
    parts.push(h, r.data);
  }
  return Buffer.concat(parts);
}
