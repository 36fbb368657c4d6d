// Lab 12 without Docker: the per-learner variation, the files the faults write, the grader's clip
// lengths and the playlist rules it judges by.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contains } from '../../orchestrator/addresses.js';
import { varsFor } from '../../orchestrator/lab.js';
import { projectRoot } from '../../orchestrator/paths.js';
import { canonicalWorld } from '../../orchestrator/world.js';
import lab, {
  clipSeconds,
  configText,
  FTP,
  goodStore,
  HLS_FAULTS,
  parsePlaylist,
  PLACEHOLDER_SECONDS,
  SEGMENT_SECONDS,
  segmentProblem,
  startConfig,
  STORE_FAULTS,
  STORE_PASSWORD,
  STORE_PUBLIC_NAME,
  transcodeScript,
  videoVars,
  VPC_PREFIX,
  type VideoVars,
} from '../../labs/12-video-service/lab.js';

const seeds = Array.from({ length: 200 }, (_, i) => `learner-${i}`);
const all = seeds.map((s) => videoVars(varsFor(lab, s)));
const usedAddresses = canonicalWorld.nodes.flatMap((n) => n.interfaces.flatMap((i) => i.addresses.map((a) => a.split('/')[0])));
/** The folder rule of the service (images/web/app/video.js). */
const FOLDER_RULE = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

describe('lab 12 variation', () => {
  it('is deterministic per seed', () => {
    expect(varsFor(lab, 'alice-1')).toEqual(varsFor(lab, 'alice-1'));
    expect(lab.task?.(varsFor(lab, 'alice-1'))).toEqual(lab.task?.(varsFor(lab, 'alice-1')));
    expect(lab.faults(varsFor(lab, 'alice-1'))).toEqual(lab.faults(varsFor(lab, 'alice-1')));
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
    for (const v of all) {
      expect(v.folder).toMatch(FOLDER_RULE);
      expect(v.segmentSeconds).toBeGreaterThanOrEqual(2);
      expect(v.segmentSeconds).not.toBe(PLACEHOLDER_SECONDS);
      if (v.storeFault === 'host-typo') {
        // A free address in Bob's VPC: nobody answers ARP for it.
        expect(contains(VPC_PREFIX, v.wrongValue)).toBe(true);
        expect(usedAddresses).not.toContain(v.wrongValue);
        expect(contains('192.0.2.0/24', v.wrongValue)).toBe(false);
      }
      if (v.storeFault === 'password') expect(v.wrongValue).not.toBe(STORE_PASSWORD);
      if (v.storeFault === 'port') expect(Number(v.wrongValue)).not.toBe(21);
      if (v.storeFault === 'host-public') expect(v.wrongValue).toBe(STORE_PUBLIC_NAME);
    }
    // The store's private address and the public name are the world's.
    expect(canonicalWorld.nodes.find((n) => n.name === 'ftp')?.interfaces[0]?.addresses[0]).toBe(`${FTP}/24`);
    const zone = canonicalWorld.settings.zones.find((z) => z.name === 'bob.example');
    expect(zone?.records.some((r) => `${r.name}.bob.example` === STORE_PUBLIC_NAME && r.type === 'A')).toBe(true);
  });

  it('writes the task card on alice and the web node, and never names the faults', () => {
    for (const s of seeds.slice(0, 40)) {
      const vars = varsFor(lab, s);
      const v = videoVars(vars);
      const card = lab.task?.(vars) ?? {};
      expect(card).toEqual({ upload_url: 'http://web.bob.example/upload', segment_seconds: String(v.segmentSeconds), store_folder: v.folder });
      expect(JSON.stringify(card)).not.toMatch(/host|port|password|keyframe|list_size/);
      const [web] = lab.faults(vars);
      expect(web?.node).toBe('web');
      expect(web?.script).toContain(`store_folder: ${v.folder}`);
    }
  });
});

describe('lab 12 files', () => {
  const v: VideoVars = { segmentSeconds: 3, folder: 'clips-teal', storeFault: 'password', hlsFault: 'window', wrongValue: 'bobpas' };

  it('starts from an unfinished config with exactly one wrong store setting', () => {
    const good = goodStore(v);
    for (const storeFault of STORE_FAULTS) {
      const wrongValue = storeFault === 'host-typo' ? '10.0.1.20' : storeFault === 'password' ? 'Bobpass' : storeFault === 'port' ? '2121' : STORE_PUBLIC_NAME;
      const c = JSON.parse(startConfig({ ...v, storeFault, wrongValue })) as { store: Record<string, unknown>; hls: { segmentSeconds: number } };
      expect(c.hls.segmentSeconds).toBe(PLACEHOLDER_SECONDS);
      expect(c.store.folder).toBe('');
      const differs = (['host', 'port', 'user', 'password'] as const).filter((k) => c.store[k] !== good[k]);
      expect(differs, storeFault).toEqual([{ 'host-public': 'host', 'host-typo': 'host', password: 'password', port: 'port' }[storeFault]]);
    }
    expect(JSON.parse(configText(good, 3))).toEqual({ store: { host: FTP, port: 21, user: 'bob', password: STORE_PASSWORD, folder: 'clips-teal' }, hls: { segmentSeconds: 3 }, maxUploadMB: 50 });
  });

  it('breaks the transcoder in one place per fault', () => {
    const good = transcodeScript();
    expect(good).toContain('-force_key_frames "expr:gte(t,n_forced*$seconds)"');
    expect(good).toContain('-hls_time "$seconds" -hls_playlist_type vod -hls_list_size 0');
    expect(good).toContain('out=$2\n');
    const changed = (fault: (typeof HLS_FAULTS)[number]) => {
      const bad = transcodeScript(fault).split('\n');
      const ok = good.split('\n');
      return { removed: ok.filter((l) => !bad.includes(l)), added: bad.filter((l) => !ok.includes(l)) };
    };
    expect(changed('keyframes')).toEqual({ removed: ['  -force_key_frames "expr:gte(t,n_forced*$seconds)" \\'], added: [] });
    expect(changed('option').added).toEqual(['  -f hls -hls_segment_time "$seconds" -hls_playlist_type vod -hls_list_size 0 \\']);
    expect(changed('window').added).toEqual(['  -f hls -hls_time "$seconds" -hls_list_size 2 \\']);
    expect(changed('outdir').added).toEqual(['out=/tmp/hls/$(basename "$2")']);
  });

  it('ships the same working transcoder in the web image and in the reference solution', () => {
    const root = projectRoot();
    const image = join(root, 'images/web/app/video/transcode.sh');
    expect(readFileSync(image, 'utf8')).toBe(transcodeScript());
    expect(statSync(image).mode & 0o111).not.toBe(0);
    const solution = readFileSync(join(root, 'labs/12-video-service/solution/web.sh'), 'utf8');
    const embedded = /<<'SCRIPT'\n([\s\S]*?)\nSCRIPT\n/.exec(solution)?.[1];
    expect(`${embedded}\n`).toBe(transcodeScript());
    const config = JSON.parse(readFileSync(join(root, 'images/web/app/video/config.json'), 'utf8')) as { store: { host: string; port: number } };
    expect(config.store).toMatchObject({ host: FTP, port: 21 });
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
    const vod = parsePlaylist('#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:3\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:3.000000,\nsegment000.ts\n#EXTINF:3.000000,\nsegment001.ts\n#EXTINF:1.600000,\nsegment002.ts\n#EXT-X-ENDLIST\n');
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
    const live = parsePlaylist('#EXTM3U\r\n#EXT-X-MEDIA-SEQUENCE:1\r\n#EXTINF:3.0,\r\nsegment001.ts\r\n#EXTINF:1.6,\r\nsegment002.ts\r\n');
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
});
