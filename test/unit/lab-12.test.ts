// Lab 12 without Docker: the per-learner variation, the files the faults write, the grader's clip
// lengths and the playlist rules it judges by, and the segments check on a fake world.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contains } from '../../orchestrator/world/addresses.js';
import { findLab, varsFor } from '../../orchestrator/labs/lab.js';
import { labChecks, labWorld } from '../../orchestrator/labs/labrun.js';
import { projectRoot } from '../../orchestrator/runtime/paths.js';
import { addressOf } from '../../labs/kit/world.js';
import lab, {
  breakTranscoder,
  clipSeconds,
  configText,
  goodStore,
  HLS_FAULTS,
  parsePlaylist,
  HELD_NAME,
  heldTrailer,
  PLACEHOLDER_SECONDS,
  readTs,
  SEGMENT_SECONDS,
  segmentProblem,
  siteOf,
  startConfig,
  STORE_FAULTS,
  STORE_PASSWORD,
  STORE_PUBLIC_NAME,
  TYPO_HOSTS,
  WRONG_PASSWORDS,
  WRONG_PORTS,
  type VideoVars,
} from '../../labs/12-video-service/lab.js';

const registered = await findLab('12');
const seeds = Array.from({ length: 200 }, (_, i) => `learner-${i}`);
const all = seeds.map((s) => varsFor(lab, s));
/** The lab's world (the same for every learner: the lab has no overlay). */
const world = labWorld(registered, varsFor(lab, 'learner-0'));
const usedAddresses = world.nodes.flatMap((n) => n.interfaces.flatMap((i) => i.addresses.map((a) => a.split('/')[0])));
/** Bob's working transcoder, as the web image ships it. */
const GOOD_TRANSCODER = readFileSync(join(projectRoot(), 'images/web/app/video/transcode.sh'), 'utf8');
/** The folder rule of the service (images/web/app/video.js). */
const FOLDER_RULE = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

// One 188-byte packet that starts a video PES with the given PTS (90 kHz), with or without an
// adaptation field in front (as ffmpeg writes before a keyframe).
const pesPacket = (pts: number, adaptation = false) => {
  const p = new Uint8Array(188).fill(0xff);
  p.set([0x47, 0x41, 0x00, adaptation ? 0x30 : 0x10]);
  let at = 4;
  if (adaptation) {
    p.set([7, 0x50, 0, 0, 0, 0, 0, 0], 4);
    at = 12;
  }
  const hi = Math.floor(pts / 2 ** 30) & 7;
  const lo = pts % 2 ** 30;
  p.set(
    [
      0,
      0,
      1,
      0xe0,
      0,
      0,
      0x80,
      0x80,
      5,
      0x21 | (hi << 1),
      (lo >> 22) & 0xff,
      (((lo >> 15) & 0x7f) << 1) | 1,
      (lo >> 7) & 0xff,
      ((lo & 0x7f) << 1) | 1,
    ],
    at,
  );
  return p;
};
const ts = (...packets: Uint8Array[]) => {
  const all = new Uint8Array(packets.length * 188);
  packets.forEach((p, i) => all.set(p, i * 188));
  return all;
};
const other = () => new Uint8Array(188).fill(0).map((_, i) => (i === 0 ? 0x47 : i === 3 ? 0x10 : 0));

describe('lab 12 variation', () => {
  it('is deterministic per seed', () => {
    expect(varsFor(lab, 'alice-1')).toEqual(varsFor(lab, 'alice-1'));
    expect(lab.task?.(varsFor(lab, 'alice-1'))).toEqual(lab.task?.(varsFor(lab, 'alice-1')));
    expect(lab.faults(varsFor(lab, 'alice-1'), world)).toEqual(lab.faults(varsFor(lab, 'alice-1'), world));
  });

  it('differs across seeds in what the learner must do', () => {
    expect(new Set(all.map((v) => v.segmentSeconds))).toEqual(new Set(SEGMENT_SECONDS));
    expect(new Set(all.map((v) => v.storeFault))).toEqual(new Set(STORE_FAULTS));
    expect(new Set(all.map((v) => v.hlsFault))).toEqual(new Set(HLS_FAULTS));
    expect(new Set(all.map((v) => v.folder)).size).toBeGreaterThanOrEqual(40);
    // Two learners rarely share the whole task (segment length and folder).
    const tasks = new Set(all.map((v) => `${v.segmentSeconds}/${v.folder}`));
    expect(tasks.size / seeds.length).toBeGreaterThan(0.6);
  });

  it('only uses values that are valid in the world and wrong where they should be', () => {
    const vpc = world.links.find((l) => l.name === 'vpc')?.prefix ?? '';
    for (const v of all) {
      expect(v.folder).toMatch(FOLDER_RULE);
      expect(v.segmentSeconds).toBeGreaterThanOrEqual(2);
      expect(v.segmentSeconds).not.toBe(PLACEHOLDER_SECONDS);
      // A port is a number, an address or a password a string.
      expect(typeof v.wrongValue).toBe(v.storeFault === 'port' ? 'number' : 'string');
      const wrong = `${v.wrongValue}`;
      if (v.storeFault === 'host-typo') {
        // A free address in Bob's VPC: nobody answers ARP for it.
        expect(contains(vpc, wrong)).toBe(true);
        expect(usedAddresses).not.toContain(wrong);
        expect(contains('192.0.2.0/24', wrong)).toBe(false);
      }
      if (v.storeFault === 'password') expect(v.wrongValue).not.toBe(STORE_PASSWORD);
      if (v.storeFault === 'port') expect(v.wrongValue).not.toBe(21);
      if (v.storeFault === 'host-public') expect(v.wrongValue).toBe(STORE_PUBLIC_NAME);
    }
    // The store's private address and the public name are the world's.
    expect(siteOf(world).ftp).toBe(addressOf(world, 'ftp'));
    expect(contains(vpc, siteOf(world).ftp)).toBe(true);
    const zone = world.settings.zones.find((z) => z.name === 'bob.example');
    expect(zone?.records.some((r) => `${r.name}.bob.example` === STORE_PUBLIC_NAME && r.type === 'A')).toBe(true);
  });

  it('writes the task card on alice and the web node, and never names the faults', () => {
    for (const s of seeds.slice(0, 40)) {
      const v = varsFor(lab, s);
      const card = lab.task?.(v) ?? {};
      expect(card).toEqual({
        upload_url: 'http://web.bob.example/upload',
        segment_seconds: `${v.segmentSeconds}`,
        store_folder: v.folder,
      });
      expect(JSON.stringify(card)).not.toMatch(/host|port|password|keyframe|list_size/);
      const [web] = lab.faults(v, world);
      expect(web?.node).toBe('web');
      expect(web?.script).toContain(`store_folder: ${v.folder}`);
    }
  });
});

describe('lab 12 files', () => {
  const v: VideoVars = {
    segmentSeconds: 3,
    folder: 'clips-teal',
    storeFault: 'password',
    hlsFault: 'window',
    wrongValue: 'bobpas',
    held: '0123456789abcdef',
  };

  it('starts from an unfinished config with exactly one wrong store setting', () => {
    const good = goodStore(v, world);
    for (const storeFault of STORE_FAULTS) {
      const wrongValue = {
        'host-typo': TYPO_HOSTS[1],
        password: WRONG_PASSWORDS[1],
        port: WRONG_PORTS[1],
        'host-public': STORE_PUBLIC_NAME,
      }[storeFault];
      const c = JSON.parse(startConfig({ ...v, storeFault, wrongValue }, world)) as {
        store: Record<string, unknown>;
        hls: { segmentSeconds: number };
      };
      expect(c.hls.segmentSeconds).toBe(PLACEHOLDER_SECONDS);
      expect(c.store.folder).toBe('');
      const differs = (['host', 'port', 'user', 'password'] as const).filter((k) => c.store[k] !== good[k]);
      expect(differs, storeFault).toEqual([
        { 'host-public': 'host', 'host-typo': 'host', password: 'password', port: 'port' }[storeFault],
      ]);
    }
    expect(JSON.parse(configText(good, 3))).toEqual({
      store: { host: siteOf(world).ftp, port: 21, user: 'bob', password: STORE_PASSWORD, folder: 'clips-teal' },
      hls: { segmentSeconds: 3 },
      maxUploadMB: 50,
    });
  });

  // Eight runs of bash and sed: give a loaded machine time.
  it(
    'breaks the transcoder in one place per fault, and the fault says so when its edit finds nothing',
    { timeout: 30_000 },
    () => {
      expect(GOOD_TRANSCODER).toContain('-force_key_frames "expr:gte(t,n_forced*$seconds)"');
      expect(GOOD_TRANSCODER).toContain('-hls_time "$seconds" -hls_playlist_type vod -hls_list_size 0');
      expect(GOOD_TRANSCODER).toContain('out=$2\n');
      const dir = mkdtempSync(join(tmpdir(), 'hn-lab12-'));
      // The fault's own shell lines, run on a copy of the image's transcoder.
      const broken = (fault: (typeof HLS_FAULTS)[number], text = GOOD_TRANSCODER) => {
        const file = join(dir, `transcode-${fault}.sh`);
        writeFileSync(file, text, { mode: 0o755 });
        execFileSync('bash', ['-ec', breakTranscoder(fault, file)], { stdio: 'pipe' });
        expect(statSync(file).mode & 0o111).not.toBe(0);
        return readFileSync(file, 'utf8');
      };
      const changed = (fault: (typeof HLS_FAULTS)[number]) => {
        const bad = broken(fault).split('\n');
        const ok = GOOD_TRANSCODER.split('\n');
        return { removed: ok.filter((l) => !bad.includes(l)), added: bad.filter((l) => !ok.includes(l)) };
      };
      expect(changed('keyframes')).toEqual({
        removed: ['  -force_key_frames "expr:gte(t,n_forced*$seconds)" \\'],
        added: [],
      });
      expect(changed('option').added).toEqual([
        '  -f hls -hls_segment_time "$seconds" -hls_playlist_type vod -hls_list_size 0 \\',
      ]);
      expect(changed('window').added).toEqual(['  -f hls -hls_time "$seconds" -hls_list_size 2 \\']);
      expect(changed('outdir').added).toEqual(['out=/tmp/hls/$(basename "$2")']);
      for (const fault of HLS_FAULTS)
        expect(() => broken(fault, '#!/bin/bash\necho a transcoder of another shape\n'), fault).toThrow(
          /changed nothing/,
        );
    },
  );

  it('ships the same working transcoder in the web image and in the reference solution', () => {
    expect(statSync(join(projectRoot(), 'images/web/app/video/transcode.sh')).mode & 0o111).not.toBe(0);
    const solution = readFileSync(join(registered.dir, 'solution/web.sh'), 'utf8');
    const embedded = /<<'SCRIPT'\n([\s\S]*?)\nSCRIPT\n/.exec(solution)?.[1];
    expect(`${embedded}\n`).toBe(GOOD_TRANSCODER);
    const config = JSON.parse(readFileSync(join(projectRoot(), 'images/web/app/video/config.json'), 'utf8')) as {
      store: { host: string; port: number };
    };
    expect(config.store).toMatchObject({ host: siteOf(world).ftp, port: 21 });
  });
});

describe('lab 12 grading rules', () => {
  it('makes clips that always cut into three segments', () => {
    for (const s of SEGMENT_SECONDS) {
      for (const r of [0, 0.25, 0.5, 0.999]) {
        const d = clipSeconds(s, r);
        expect(Math.round(d * 10)).toBe(d * 10);
        expect(Math.ceil(d / s - 1e-9), `${s} s segments, ${d} s clip`).toBe(3);
        // A stream made from the 6 s sample never matches the clip.
        expect(Math.abs(d - 6)).toBeGreaterThanOrEqual(0.5);
      }
    }
  });

  it('parses a VOD playlist and a live window', () => {
    const vod = parsePlaylist(
      '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:3\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:3.000000,\nsegment000.ts\n#EXTINF:3.000000,\nsegment001.ts\n#EXTINF:1.600000,\nsegment002.ts\n#EXT-X-ENDLIST\n',
    );
    expect(vod).toEqual({
      ok: true,
      ended: true,
      mediaSequence: 0,
      segments: [
        { uri: 'segment000.ts', seconds: 3 },
        { uri: 'segment001.ts', seconds: 3 },
        { uri: 'segment002.ts', seconds: 1.6 },
      ],
    });
    const live = parsePlaylist(
      '#EXTM3U\r\n#EXT-X-MEDIA-SEQUENCE:1\r\n#EXTINF:3.0,\r\nsegment001.ts\r\n#EXTINF:1.6,\r\nsegment002.ts\r\n',
    );
    expect(live).toMatchObject({ ok: true, ended: false, mediaSequence: 1 });
    expect(live.segments.map((s) => s.uri)).toEqual(['segment001.ts', 'segment002.ts']);
    expect(parsePlaylist('<html>not found</html>').ok).toBe(false);
  });

  it('judges segment lengths: all but the last as asked, none longer', () => {
    const seg = (...seconds: number[]) => seconds.map((s, i) => ({ uri: `segment00${i}.ts`, seconds: s }));
    expect(segmentProblem(seg(3, 3, 1.6), 3)).toBe('');
    expect(segmentProblem(seg(3.1, 2.9, 3), 3)).toBe('');
    expect(segmentProblem(seg(7.6), 3)).toMatch(/segment000.ts lasts 7.6 s, longer than the 3 s/);
    expect(segmentProblem(seg(2, 2, 2, 1.6), 3)).toMatch(/every segment but the last should last 3 s/);
    expect(segmentProblem(seg(10), 4)).toMatch(/longer/);
    expect(segmentProblem([], 2)).toMatch(/no segments/);
  });

  it('reads how long a segment really is from its frames, not from the playlist', () => {
    // Ten frames at 10 fps with B-frame order (PTS not monotonic), far into the 33-bit clock.
    const base = 2 ** 32 + 126000;
    const order = [0, 3, 1, 2, 6, 4, 5, 9, 7, 8];
    const r = readTs(ts(pesPacket(base, true), ...order.slice(1).map((k) => pesPacket(base + k * 9000)), other()));
    expect(r).toEqual({ ts: true, frames: 10, seconds: 1 });
    expect(readTs(ts(other(), other()))).toEqual({ ts: true, frames: 0, seconds: 0 });
    expect(readTs(new Uint8Array(100)).ts).toBe(false);
    const bad = ts(pesPacket(0));
    bad[0] = 0x48;
    expect(readTs(bad).ts).toBe(false);
  });

  it("marks the upload made at start with the seed's nonce, in an MP4 free box at its end", () => {
    const vars = varsFor(lab, 'learner-5');
    const nonce = vars.held;
    expect(nonce).toMatch(/^[0-9a-f]{16}$/);
    expect(varsFor(lab, 'learner-6').held).not.toBe(nonce);
    expect(heldTrailer(nonce)).toBe(`\\000\\000\\000\\030free${nonce}`);
    const script = lab.faults(vars, world)[0]?.script ?? '';
    expect(script).toContain(`printf '${heldTrailer(nonce)}' >> "$held"`);
    expect(script).toContain(`filename=${HELD_NAME}`);
  });
});

describe('lab 12 segments check, on a fake world', () => {
  /** A segment of 3 s: 30 video frames at 10 fps. */
  const threeSeconds = () => ts(...Array.from({ length: 30 }, (_, k) => pesPacket(90000 + k * 9000, k === 0)));

  /**
   * Runs a check against fake hosts: the grader's upload succeeds, the playlist is the given text,
   * each segment URL answers with bytes (200) or with a status of its own, and Bob's access log
   * has the upload from `client`.
   */
  async function verdictOf(
    id: string,
    playlist: string,
    served: Record<string, Uint8Array | number>,
    client = siteOf(world).alicePublic,
  ) {
    const vars: VideoVars = { ...varsFor(lab, 'learner-1'), segmentSeconds: 3 };
    const files = new Map<string, Uint8Array>();
    const clip = Buffer.from('a clip').toString('base64');
    const sha = 'c'.repeat(64);
    const out = (output: string, exitCode = 0) => ({ exitCode, output });
    let token = '';
    const b64 = (path: string) =>
      path.includes('hurrynet-grader-') ? clip : Buffer.from(files.get(path) ?? []).toString('base64');
    const answer = (cmd: string) => {
      if (cmd.startsWith('dig '))
        return out(
          ';; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1\n;; ANSWER SECTION:\nweb.bob.example.\t300\tIN\tA\t198.51.100.80\n\n;; SERVER: 192.168.1.1#53(192.168.1.1)\n',
        );
      if (cmd.startsWith('ffmpeg ')) return out(`${clip.length}\n${sha}  /tmp/clip.mp4\n`);
      const cut = /^base64 -w0 '?([^' ]+)'? \| cut -c(\d+)-(\d+)$/.exec(cmd);
      if (cut) return out(b64(cut[1] as string).slice(Number(cut[2]) - 1, Number(cut[3])));
      const stat = /^stat -c %s '?([^' ]+)'?/.exec(cmd);
      if (stat) return out(files.has(stat[1] as string) ? String(files.get(stat[1] as string)?.length) : 'missing');
      if (cmd.startsWith('base64 -d ')) return out(`${sha}  /tmp/clip.mp4`);
      if (cmd.startsWith('printf ') || cmd.startsWith('rm ')) return out('');
      if (cmd.includes('hurrynet-seg')) {
        // One line per segment: echo "<label> $(curl ... -o <file> ... <url> 2>&1)".
        const lines = cmd.split('\n').map((line) => {
          const m = /^echo "(.*?) \$\(curl .* -o (\S+) .*'([^']+)' 2>&1\)"$/.exec(line);
          if (!m) throw new Error(`unexpected fetch line: ${line}`);
          const got = served[m[3] as string] ?? 404;
          if (typeof got !== 'number') files.set(m[2] as string, got);
          return `${m[1]} ${typeof got === 'number' ? got : 200} ${typeof got === 'number' ? 0 : got.length}`;
        });
        return out(lines.join('\n'));
      }
      if (cmd.includes('index.m3u8')) return out(`${playlist}\n200 application/vnd.apple.mpegurl`);
      const upload = /\/upload\?hn=(\w+)/.exec(cmd);
      if (upload) {
        token = upload[1] as string;
        return out('{"id":"v1","playlist":"/hls/v1/index.m3u8"}\n201');
      }
      if (cmd.startsWith(`grep -F -- '${token}' /var/log/web/access.log`))
        return out(
          `${JSON.stringify({ time: 'now', client, method: 'POST', path: `/upload?hn=${token}`, status: 201 })}\n`,
        );
      return out(`unexpected command: ${cmd}`, 127);
    };
    const host = (where: string) => ({
      where,
      run: async (command: string) => ({ where, command, ...answer(command) }),
    });
    const ctx = {
      instance: 'x',
      timeScale: 1,
      vars,
      answers: async () => ({ ok: false as const, error: '' }),
      probe: async () => host('probe'),
      inspect: async () => host('inspect'),
      witness: async () => undefined,
      fresh: async () => host('fresh@lan'),
      node: (n: string) => host(n),
    };
    const check = labChecks(registered, vars).find((c) => c.id === id);
    if (!check) throw new Error(`lab 12 has no ${id} check`);
    return check.run(ctx);
  }

  const site = 'http://web.bob.example/hls/v1';
  const playlist = (...uris: string[]) =>
    ['#EXTM3U', '#EXT-X-PLAYLIST-TYPE:VOD', ...uris.flatMap((u) => ['#EXTINF:3.000,', u]), '#EXT-X-ENDLIST'].join('\n');

  it('blames the segment a player is sent away for, not the one after it', async () => {
    const offsite = 'http://cdn.example/segment001.ts';
    const verdict = await verdictOf('segments', playlist('segment000.ts', offsite, 'segment002.ts'), {
      [`${site}/segment000.ts`]: threeSeconds(),
      [offsite]: threeSeconds(),
      [`${site}/segment002.ts`]: threeSeconds(),
    });
    expect(verdict.passed).toBe(false);
    expect(verdict.reason).toContain(offsite);
    expect(verdict.reason).not.toContain('segment002');
    // The reading of each segment is its own: the one after the off-site one was served and read.
    const reading = verdict.evidence.find((e) => e.command.includes('video timestamps'))?.output ?? '';
    expect(reading).toMatch(/^segment002\.ts: HTTP 200, \d+ bytes, 30 video frames, 3 s$/m);
    expect(reading).not.toMatch(new RegExp(`^${offsite}: HTTP 200`, 'm'));
  });

  it('gives each segment its own status when one before it is off-site', async () => {
    const offsite = 'http://cdn.example/segment000.ts';
    const verdict = await verdictOf('segments', playlist(offsite, 'segment001.ts', 'segment002.ts'), {
      [`${site}/segment001.ts`]: threeSeconds(),
      [`${site}/segment002.ts`]: 404,
    });
    const reading = verdict.evidence.find((e) => e.command.includes('video timestamps'))?.output ?? '';
    expect(reading).toMatch(/^segment001\.ts: HTTP 200, \d+ bytes, 30 video frames, 3 s$/m);
    expect(reading).toMatch(/^segment002\.ts: HTTP 404/m);
  });

  it("finds the upload in Bob's access log by the nonce in its URL, and only from Alice's public address", async () => {
    const stream = playlist('segment000.ts');
    const arrived = await verdictOf('upload', stream, {});
    expect(arrived.reason).toContain(`accepted as v1 (201), arriving from ${siteOf(world).alicePublic}`);
    expect(arrived.passed).toBe(true);
    const relayed = await verdictOf('upload', stream, {}, '192.168.1.50');
    expect(relayed.passed).toBe(false);
    expect(relayed.reason).toMatch(/shows no POST from Alice's public address/);
  });
});
