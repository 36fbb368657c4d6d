// Lab 12: the video service, upload -> store -> stream. Bob's web node runs an express service
// (images/web/app/video.js) that takes a video as a multipart POST, hands it to the FTP store with
// basic-ftp, cuts it into an HLS stream with ffmpeg and serves the playlist and segments over HTTP.
// Its settings (video/config.json) and its ffmpeg step (video/transcode.sh) are the learner's to
// finish: the lab starts with Bob's placeholders (no store folder, 10 s segments), one broken store
// setting and one broken transcoder, both chosen per seed.
//
// Graded by doing what a viewer and an uploader would do, from a fresh machine the grader puts on
// Alice's LAN (through her NAT and Bob's edge; nothing the learner sets on alice, such as a hosts
// entry or a redirect to a relay of her own, is in its way): the grader makes a fresh clip of a
// random length on the web node (ffmpeg lavfi, with a nonce in its metadata), uploads it with
// curl -F, then finds the same bytes on the FTP node (far end: the file's sha256 and vsftpd's log of
// the upload from the web node), and fetches the playlist and every segment over HTTP. How long
// each segment lasts is read from the segments themselves (the timestamps of their video frames,
// parsed by the grader), never taken from the playlist's #EXTINF claims or from an ffprobe on the
// web node, both of which the learner writes; the lengths must fit the clip and the seed's segment
// length. Bad uploads must get clear JSON errors. No upload may be lost: at start the lab uploads a
// clip of its own while the store is broken (marked with a per-seed nonce at its end), and once the
// store works those very bytes must be on it, put there by the web node; the service's records
// (a file on the learner's node) are checked against the store as well, never trusted alone.
import { randomInt } from 'node:crypto';
import { addressOf, defineLab, draws, FILES, heredoc, nonce, type Fault, type World } from '../kit/index.js';
import { aliceLan, alicePublic, aliceSide, loggedRequests, WEB_HOST } from '../kit/web.js';
import {
  fail,
  pass,
  type Check,
  type CheckContext,
  type Evidence,
  type Host,
  type Verdict,
} from '../../checks/types.js';
import { q, resolveWith } from '../../checks/probes.js';

// ---- names and the service's files on the web node (see images/web/app/video.js) ----------------

export const STORE_PUBLIC_NAME = 'ftp.bob.example';
export const BASE_URL = `http://${WEB_HOST}`;
export const VIDEO_DIR = '/srv/web/video';
export const CONFIG_FILE = `${VIDEO_DIR}/config.json`;
/** Bob's working transcoder as the web image ships it; the lab breaks it in place (HLS_BREAKS). */
export const TRANSCODER = `${VIDEO_DIR}/transcode.sh`;
export const STATE_FILE = `${FILES.webDataDir}/video/videos.json`;
export const VIDEO_LOG = `${FILES.webLogDir}/video.log`;
/** Bob's account on the store (images/ftp/Dockerfile); vsftpd chroots it to its home. */
export const STORE_USER = 'bob';
export const STORE_PASSWORD = 'bobpass';
export const STORE_HOME = '/home/bob';
/** The name of the upload the lab makes at start, while the store is still broken. */
export const HELD_NAME = 'holiday.mp4';
/** The segment length Bob left in the config: never a seed's value. */
export const PLACEHOLDER_SECONDS = 10;

/** What the lab needs to know about this learner's world. */
export interface Site {
  /** Alice's home router on her LAN: her resolver. */
  resolver: string;
  /** Alice's public address: the client Bob's server sees after her NAT. */
  alicePublic: string;
  /** Bob's web node and file store, by their private addresses in the VPC. */
  web: string;
  ftp: string;
}

export function siteOf(world: World): Site {
  return {
    resolver: addressOf(world, 'home', aliceLan(world)),
    alicePublic: alicePublic(world),
    web: addressOf(world, 'web', 'vpc'),
    ftp: addressOf(world, 'ftp', 'vpc'),
  };
}

// ---- variation ------------------------------------------------------------------------------------

export const SEGMENT_SECONDS = [2, 3, 4] as const;
export const STORE_FAULTS = ['host-public', 'host-typo', 'password', 'port'] as const;
export const HLS_FAULTS = ['keyframes', 'option', 'window', 'outdir'] as const;
export type StoreFault = (typeof STORE_FAULTS)[number];
export type HlsFault = (typeof HLS_FAULTS)[number];
export const FOLDER_WORDS = [
  'clips',
  'reels',
  'footage',
  'movies',
  'uploads',
  'videos',
  'originals',
  'masters',
] as const;
export const COLOURS = ['amber', 'teal', 'violet', 'coral', 'indigo', 'olive', 'crimson', 'slate'] as const;
/** Free addresses in Bob's VPC next to the store's (digits swapped or off by one). */
export const TYPO_HOSTS = ['10.0.1.12', '10.0.1.20', '10.0.1.22', '10.0.1.210'] as const;
export const WRONG_PASSWORDS = ['bobpas', 'Bobpass', 'bob-pass', 'password'] as const;
/** Port 20 is FTP's old active-mode data port, 2121 a common "alternative" FTP port. */
export const WRONG_PORTS = [20, 2121] as const;

export type VideoVars = {
  segmentSeconds: (typeof SEGMENT_SECONDS)[number];
  folder: string;
  storeFault: StoreFault;
  hlsFault: HlsFault;
  /** The broken store setting's value: an address or a password (strings), or a port (a number). */
  wrongValue: string | number;
  /** The nonce that marks the upload the lab makes at start, while the store is broken. */
  held: string;
};

const vary = draws<VideoVars>({
  segmentSeconds: (r) => r.pick(SEGMENT_SECONDS),
  folder: (r) => `${r.pick(FOLDER_WORDS)}-${r.pick(COLOURS)}`,
  storeFault: (r) => r.pick(STORE_FAULTS),
  hlsFault: (r) => r.pick(HLS_FAULTS),
  // Depends on the store fault drawn before it: the wrong value of the setting that is broken.
  wrongValue: (r, d) => {
    switch (d.storeFault) {
      case 'host-typo':
        return r.pick(TYPO_HOSTS);
      case 'password':
        return r.pick(WRONG_PASSWORDS);
      case 'port':
        return r.pick(WRONG_PORTS);
      default:
        return STORE_PUBLIC_NAME;
    }
  },
  held: (r) => Array.from({ length: 16 }, () => '0123456789abcdef'[r.int(0, 15)]).join(''),
});

// ---- the files the lab writes ---------------------------------------------------------------------

export interface StoreSettings {
  host: string;
  port: number;
  user: string;
  password: string;
  folder: string;
}

/** The correct store settings for this learner. */
export function goodStore(v: VideoVars, world: World): StoreSettings {
  return { host: siteOf(world).ftp, port: 21, user: STORE_USER, password: STORE_PASSWORD, folder: v.folder };
}

/** Bob's unfinished config: no folder yet, his placeholder segment length, one wrong store setting. */
export function startConfig(v: VideoVars, world: World): string {
  const store: StoreSettings = { ...goodStore(v, world), folder: '' };
  const wrong = v.wrongValue;
  if (v.storeFault === 'host-public') store.host = STORE_PUBLIC_NAME;
  if (v.storeFault === 'host-typo' && typeof wrong === 'string') store.host = wrong;
  if (v.storeFault === 'password' && typeof wrong === 'string') store.password = wrong;
  if (v.storeFault === 'port' && typeof wrong === 'number') store.port = wrong;
  return configText(store, PLACEHOLDER_SECONDS);
}

export function configText(store: StoreSettings, segmentSeconds: number): string {
  return `${JSON.stringify({ store, hls: { segmentSeconds }, maxUploadMB: 50 }, null, 2)}\n`;
}

/** Each broken transcoder is one sed edit of Bob's working one, which the web image ships. */
export const HLS_BREAKS: Record<HlsFault, string> = {
  keyframes: '/-force_key_frames/d',
  option: 's/ -hls_time / -hls_segment_time /',
  window: 's/ -hls_playlist_type vod -hls_list_size 0 / -hls_list_size 2 /',
  outdir: 's|^out=\\$2$|out=/tmp/hls/$(basename "$2")|',
};

/** The shell lines that break the transcoder at `path` the seed's way, and fail when the edit finds nothing to change. */
export function breakTranscoder(fault: HlsFault, path = TRANSCODER): string {
  return [
    `sed -i.bob ${q(HLS_BREAKS[fault])} ${q(path)}`,
    `if cmp -s ${q(path)} ${q(`${path}.bob`)}; then echo "the ${fault} edit changed nothing in ${path}" >&2; exit 1; fi`,
    `rm -f ${q(`${path}.bob`)}`,
  ].join('\n');
}

// ---- the grader's clip ----------------------------------------------------------------------------

/**
 * A clip length that always gives three segments, 2S + 0.5 to 3S - 0.5 seconds in tenths, and is
 * never within half a second of the 6 s sample clip (a stream made from it never fits).
 */
export function clipSeconds(segmentSeconds: number, r: number): number {
  const low = 2 * segmentSeconds + 0.5;
  return Math.round((low + r * (segmentSeconds - 1)) * 10) / 10;
}

export interface Segment {
  uri: string;
  seconds: number;
}

/** The segments of an HLS media playlist, and whether it is complete (#EXT-X-ENDLIST). */
export function parsePlaylist(text: string): {
  ok: boolean;
  segments: Segment[];
  ended: boolean;
  mediaSequence: number;
} {
  const segments: Segment[] = [];
  let pending: number | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const m = /^#EXTINF:\s*([\d.]+)/.exec(line);
    if (m) pending = Number(m[1]);
    else if (line && !line.startsWith('#') && pending !== undefined) {
      segments.push({ uri: line, seconds: pending });
      pending = undefined;
    }
  }
  return {
    ok: /^#EXTM3U/.test(text.trimStart()),
    segments,
    ended: /^#EXT-X-ENDLIST/m.test(text),
    mediaSequence: Number(/^#EXT-X-MEDIA-SEQUENCE:(\d+)/m.exec(text)?.[1] ?? 0),
  };
}

export const TOTAL_TOLERANCE = 0.3;
export const SEGMENT_TOLERANCE = 0.25;

/** Why segment lengths do not fit the task ('' when they do): all but the last last S seconds. */
export function segmentProblem(segments: Segment[], segmentSeconds: number): string {
  if (!segments.length) return 'the playlist lists no segments';
  for (const [i, s] of segments.entries()) {
    const last = i === segments.length - 1;
    if (s.seconds > segmentSeconds + SEGMENT_TOLERANCE)
      return `${s.uri} lasts ${s.seconds} s, longer than the ${segmentSeconds} s segments the task asks for`;
    if (!last && Math.abs(s.seconds - segmentSeconds) > SEGMENT_TOLERANCE)
      return `${s.uri} lasts ${s.seconds} s; every segment but the last should last ${segmentSeconds} s`;
  }
  return '';
}

// ---- the grader's own reading of a segment (MPEG-TS), instead of anything the learner writes -------

const TS_PACKET = 188;
const PTS_HZ = 90000;

export interface TsReading {
  /** Every 188-byte packet starts with the sync byte 0x47. */
  ts: boolean;
  /** Video frames: PES packets of a video stream (one per frame, as ffmpeg writes them). */
  frames: number;
  /** Seconds of video the segment holds: from its earliest to its latest frame, plus one frame. */
  seconds: number;
}

/**
 * Reads the video timestamps of an MPEG-TS segment: the PTS of every video PES packet. That is
 * what a player's decoder goes by, whatever the playlist's #EXTINF lines say about the segment.
 */
export function readTs(data: Uint8Array): TsReading {
  if (data.length < TS_PACKET || data.length % TS_PACKET !== 0) return { ts: false, frames: 0, seconds: 0 };
  const pts: number[] = [];
  for (let at = 0; at < data.length; at += TS_PACKET) {
    const p = data.subarray(at, at + TS_PACKET);
    if (p[0] !== 0x47) return { ts: false, frames: 0, seconds: 0 };
    const start = ((p[1] as number) & 0x40) !== 0;
    const control = ((p[3] as number) >> 4) & 3;
    if (!start || !(control & 1)) continue;
    const offset = control & 2 ? 5 + (p[4] as number) : 4;
    const pes = p.subarray(offset);
    // A PES header: 00 00 01, a video stream id (0xE0-0xEF), and a PTS when flagged.
    if (pes.length < 14 || pes[0] !== 0 || pes[1] !== 0 || pes[2] !== 1) continue;
    const id = pes[3] as number;
    if (id < 0xe0 || id > 0xef || !(((pes[7] as number) >> 6) & 2)) continue;
    const b = (i: number) => pes[9 + i] as number;
    pts.push(((b(0) >> 1) & 7) * 2 ** 30 + ((b(1) << 22) | ((b(2) >> 1) << 15) | (b(3) << 7) | (b(4) >> 1)));
  }
  if (!pts.length) return { ts: true, frames: 0, seconds: 0 };
  const sorted = [...pts].sort((x, y) => x - y);
  const steps = sorted
    .slice(1)
    .map((x, i) => x - (sorted[i] as number))
    .filter((d) => d > 0);
  const frame = steps.length ? Math.min(...steps) : 0;
  const span = (sorted.at(-1) as number) - (sorted[0] as number) + frame;
  return { ts: true, frames: pts.length, seconds: Math.round((span / PTS_HZ) * 1000) / 1000 };
}

// ---- observations shared by the checks (one grader run per check run) ----------------------------

interface Clip {
  nonce: string;
  seconds: number;
  sha256: string;
  bytes: number;
  name: string;
}

interface UploadRun {
  clip?: Clip;
  /** HTTP status of the upload (0: no answer). */
  status: number;
  json?: Record<string, unknown>;
  id?: string;
  /** Why the upload could not even be tried (grader side), when it could not. */
  broken?: string;
  address?: string;
  evidence: Evidence[];
}

/** One segment the playlist lists, as the grader fetched and read it. */
export interface FetchedSegment {
  uri: string;
  /** What the playlist's #EXTINF claims for it. */
  listed: number;
  /** Its URL is on Bob's site (else the playlist sends a player elsewhere, and it is not fetched). */
  onSite: boolean;
  /** HTTP status (0: no answer, or not fetched), bytes, and what its video frames say. */
  status: number;
  bytes: number;
  ts: boolean;
  frames: number;
  seconds: number;
}

interface StreamRun {
  ok: boolean;
  reason: string;
  segments: Segment[];
  ended: boolean;
  mediaSequence: number;
  fetched: FetchedSegment[];
  evidence: Evidence[];
}

/** How long the grader waits for its upload to be stored and transcoded (a working pipeline: 1-3 s). */
const UPLOAD_TIMEOUT = 30;
/** Base64 characters per command, so that one answer stays well below a node's output limit. */
const B64_CHUNK = 15000;

const short = (e: Evidence, max = 1500): Evidence => ({
  ...e,
  output: e.output.length > max ? `${e.output.slice(0, max)}\n...` : e.output,
});
const sum = (xs: number[]) => Math.round(xs.reduce((a, x) => a + x, 0) * 1000) / 1000;

/** A file on a host as base64, in pieces small enough for one command each. */
async function base64Of(host: Host, path: string, bytes: number): Promise<string | undefined> {
  const pieces = Math.max(1, Math.ceil((Math.ceil(bytes / 3) * 4) / B64_CHUNK));
  const parts = await Promise.all(
    Array.from({ length: pieces }, (_, i) =>
      host.run(`base64 -w0 ${q(path)} | cut -c${i * B64_CHUNK + 1}-${(i + 1) * B64_CHUNK}`, 10000),
    ),
  );
  return parts.some((x) => x.exitCode !== 0) ? undefined : parts.map((x) => x.output.trim()).join('');
}

/** A file from the grader's machine, as bytes. */
async function fileBytes(host: Host, path: string): Promise<Uint8Array | undefined> {
  const size = await host.run(`stat -c %s ${q(path)} 2>/dev/null || echo missing`, 5000);
  const bytes = Number(size.output.trim());
  if (!Number.isFinite(bytes) || bytes <= 0) return undefined;
  const b64 = await base64Of(host, path, bytes);
  return b64 === undefined ? undefined : new Uint8Array(Buffer.from(b64, 'base64'));
}

async function makeClip(
  web: Host,
  segmentSeconds: number,
): Promise<{ clip?: Clip; b64?: string; evidence: Evidence[] }> {
  const id = nonce(6);
  const seconds = clipSeconds(segmentSeconds, randomInt(0, 1000) / 1000);
  const file = `/tmp/hurrynet-grader-${id}.mp4`;
  const gen = await web.run(
    `ffmpeg -nostdin -v error -y -f lavfi -i testsrc=size=160x120:rate=10:duration=${seconds} -c:v libx264 -preset veryfast -crf 35 -pix_fmt yuv420p ` +
      `-metadata comment=hurrynet-grader-${id} -movflags +faststart ${file} && stat -c %s ${file} && sha256sum ${file}`,
    30000,
  );
  const m = /^(\d+)\n([0-9a-f]{64}) /m.exec(gen.output);
  if (gen.exitCode !== 0 || !m) return { evidence: [gen] };
  const bytes = Number(m[1]);
  // The probe has no ffmpeg, so the clip travels as base64.
  const b64 = await base64Of(web, file, bytes);
  await web.run(`rm -f ${file}`, 5000);
  if (b64 === undefined) return { evidence: [gen] };
  return {
    clip: { nonce: id, seconds, sha256: m[2] as string, bytes, name: `grader-${id}.mp4` },
    b64,
    evidence: [{ ...gen, output: `${seconds} s clip, ${bytes} bytes\n${gen.output}` }],
  };
}

/** The upload's error in the service's words, for reasons. */
function serviceSaid(u: UploadRun): string {
  const err = typeof u.json?.error === 'string' ? u.json.error : '';
  const detail = typeof u.json?.detail === 'string' ? u.json.detail.trim().split('\n').slice(0, 2).join(' / ') : '';
  return err
    ? `${u.status}: ${err}${detail ? ` (${detail.slice(0, 200)})` : ''}`
    : u.status
      ? `HTTP ${u.status}`
      : `no answer within ${UPLOAD_TIMEOUT} s`;
}

/** A segment's URL, when it is on Bob's site (a player is sent elsewhere for any other). */
function siteUrl(uri: string, playlist: URL): string | undefined {
  try {
    const href = new URL(uri, playlist).href;
    return href.startsWith(`${BASE_URL}/`) ? href : undefined;
  } catch {
    return undefined;
  }
}

/** What the grader learns once per check run: its upload, and the stream made from it. */
interface Grader {
  upload(ctx: CheckContext): Promise<UploadRun>;
  stream(ctx: CheckContext): Promise<StreamRun>;
}

/** The grader's viewer and uploader, a fresh machine on Alice's LAN, with one run per check context. */
function grader(v: VideoVars, world: World, site: Site): Grader {
  const uploads = new WeakMap<CheckContext, Promise<UploadRun>>();
  const streams = new WeakMap<CheckContext, Promise<StreamRun>>();
  const once = <T>(cache: WeakMap<CheckContext, Promise<T>>, ctx: CheckContext, run: () => Promise<T>): Promise<T> => {
    const known = cache.get(ctx) ?? run();
    cache.set(ctx, known);
    return known;
  };
  const upload = (ctx: CheckContext) => once(uploads, ctx, () => graderUpload(ctx, v, world, site));
  return { upload, stream: (ctx) => once(streams, ctx, async () => graderStream(ctx, await upload(ctx), world)) };
}

async function graderUpload(ctx: CheckContext, v: VideoVars, world: World, site: Site): Promise<UploadRun> {
  const [probe, made] = await Promise.all([aliceSide(ctx, world), makeClip(ctx.node('web'), v.segmentSeconds)]);
  const { address, result } = await resolveWith(probe, WEB_HOST, site.resolver);
  if (!address)
    return {
      status: 0,
      broken: `${WEB_HOST} does not resolve through Alice's home router`,
      evidence: [result.evidence],
    };
  if (!made.clip || made.b64 === undefined)
    return {
      status: 0,
      broken: 'the grader could not make its test clip with ffmpeg on the web node',
      address,
      evidence: made.evidence,
    };
  const clip = made.clip;
  const local = `/tmp/${clip.name}`;
  const b64file = `/tmp/${clip.nonce}.b64`;
  for (let i = 0; i < made.b64.length; i += 60000) {
    const put = await probe.run(`printf '%s' ${q(made.b64.slice(i, i + 60000))} >> ${b64file}`, 10000);
    if (put.exitCode !== 0)
      return { status: 0, broken: 'the grader could not copy its clip into the probe', clip, evidence: [short(put)] };
  }
  const check = await probe.run(`base64 -d ${b64file} > ${local} && sha256sum ${local}`, 10000);
  if (!check.output.startsWith(clip.sha256))
    return { status: 0, broken: 'the clip copied into the probe is damaged', clip, evidence: [check] };
  // The nonce in the URL finds this very request in Bob's access log.
  const url = `${BASE_URL}/upload?hn=${clip.nonce}`;
  const up = await probe.run(
    `curl -sS -m ${UPLOAD_TIMEOUT} --resolve ${WEB_HOST}:80:${address} -F ${q(`file=@${local};type=video/mp4`)} -w '\\n%{http_code}' ${q(url)}`,
    (UPLOAD_TIMEOUT + 5) * 1000,
  );
  const lines = up.output.replace(/\n$/, '').split('\n');
  const status = up.exitCode === 0 ? Number(lines.at(-1)) : 0;
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(lines.slice(0, -1).join('\n')) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  const id = typeof json?.id === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(json.id) ? json.id : undefined;
  const shown: Evidence = {
    ...up,
    command: `curl -F file=@${clip.name} ${url}   (a ${clip.seconds} s clip, ${clip.bytes} bytes, sha256 ${clip.sha256.slice(0, 16)}...)`,
  };
  return { clip, status, json, id, address, evidence: [...made.evidence, short(shown)] };
}

async function graderStream(ctx: CheckContext, u: UploadRun, world: World): Promise<StreamRun> {
  const none = (reason: string, evidence: Evidence[] = u.evidence.slice(-1)): StreamRun => ({
    ok: false,
    reason,
    segments: [],
    ended: false,
    mediaSequence: 0,
    fetched: [],
    evidence,
  });
  if (u.broken) return none(u.broken);
  if (!u.id) return none(`the upload was not accepted (${serviceSaid(u)}), so there is no stream to fetch`);
  if (u.status !== 201) return none(`the upload got ${serviceSaid(u)}, so there is no stream to fetch`);
  const advertised =
    typeof u.json?.playlist === 'string' && /^\/[A-Za-z0-9._/-]+\.m3u8$/.test(u.json.playlist)
      ? u.json.playlist
      : `/hls/${u.id}/index.m3u8`;
  const playlistUrl = `${BASE_URL}${advertised}`;
  const probe = await aliceSide(ctx, world);
  const resolve = `--resolve ${WEB_HOST}:80:${u.address}`;
  const pl = await probe.run(`curl -sS -m 10 ${resolve} -w '\\n%{http_code} %{content_type}' ${q(playlistUrl)}`, 15000);
  const lines = pl.output.replace(/\n$/, '').split('\n');
  const [code, type] = (lines.at(-1) ?? '').split(' ');
  const text = lines.slice(0, -1).join('\n');
  const shownPl: Evidence = short({ ...pl, command: `curl ${playlistUrl}` }, 2500);
  if (pl.exitCode !== 0 || code !== '200')
    return none(`GET ${advertised} from Alice's side answered ${pl.exitCode === 0 ? code : 'nothing'}`, [shownPl]);
  const parsed = parsePlaylist(text);
  if (!parsed.ok)
    return none(
      `${advertised} is not an HLS playlist (it does not start with #EXTM3U; Content-Type ${type || 'none'})`,
      [shownPl],
    );
  // Every segment on Bob's site, fetched the way a player would (relative to the playlist's URL).
  // Each keeps its own number in the list, so that its status and bytes stay its own whichever
  // segments the playlist sends elsewhere.
  const base = new URL(playlistUrl);
  const listed = parsed.segments.map((s, i) => ({ ...s, i, url: siteUrl(s.uri, base), file: `/tmp/hurrynet-seg${i}` }));
  const onSite = listed.filter((s) => s.url !== undefined);
  const fetch = onSite.length
    ? await probe.run(
        onSite
          .map(
            (s) =>
              `echo "${s.i} ${(s.url as string).slice(BASE_URL.length)} $(curl -sS -m 10 ${resolve} -o ${s.file} -w '%{http_code} %{size_download}' ${q(s.url as string)} 2>&1)"`,
          )
          .join('\n'),
        20000,
      )
    : undefined;
  const answers = fetch?.output.split('\n') ?? [];
  // The segments' bytes come back to the grader, which reads their timestamps itself.
  const fetched = await Promise.all(
    listed.map(async (s): Promise<FetchedSegment> => {
      const seen = { uri: s.uri, listed: s.seconds, onSite: s.url !== undefined };
      if (!s.url) return { ...seen, status: 0, bytes: 0, ts: false, frames: 0, seconds: 0 };
      const [, , status, bytes] = (answers.find((l) => l.startsWith(`${s.i} `)) ?? '').split(' ');
      const data = await fileBytes(probe, s.file);
      const r = data ? readTs(data) : undefined;
      return {
        ...seen,
        status: Number(status) || 0,
        bytes: Number(bytes) || 0,
        ts: !!r?.ts,
        frames: r?.frames ?? 0,
        seconds: r?.seconds ?? 0,
      };
    }),
  );
  const reading: Evidence = {
    where: probe.where,
    command: `the grader's reading of each segment's video timestamps (MPEG-TS PES PTS)`,
    exitCode: 0,
    output: fetched
      .map(
        (f) =>
          `${f.uri}: ${f.onSite ? `HTTP ${f.status}, ${f.bytes} bytes, ${f.ts ? `${f.frames} video frames, ${f.seconds} s` : 'not MPEG-TS'}` : `not on ${BASE_URL}, not fetched`}`,
      )
      .join('\n'),
  };
  const evidence = [
    shownPl,
    ...(fetch ? [short({ ...fetch, command: `curl each segment listed in ${advertised} (status, bytes)` }, 2500)] : []),
    reading,
  ];
  return {
    ok: true,
    reason: '',
    segments: parsed.segments,
    ended: parsed.ended,
    mediaSequence: parsed.mediaSequence,
    fetched,
    evidence,
  };
}

/** The file the lab's own upload at start carries at its end: an MP4 "free" box with the nonce. */
export function heldTrailer(held: string): string {
  return `\\000\\000\\000\\030free${held}`;
}

/** The lab's own upload from the start, as the store has it. */
interface HeldUpload {
  /** Where the store holds it (its last bytes are the nonce), if anywhere. */
  path?: string;
  /** vsftpd's log shows the web node put it there. */
  fromWeb: boolean;
  evidence: Evidence;
}

async function heldOnStore(ctx: CheckContext, held: string, site: Site): Promise<HeldUpload> {
  const e = await ctx
    .node('ftp')
    .run(
      `find ${STORE_HOME} -type f -exec sh -c '[ "$(tail -c 20 "$1" | head -c 4)" = free ] && [ "$(tail -c 16 "$1")" = ${held} ] && echo "$1"' _ {} \\; | head -n 1 | ` +
        `while read -r f; do echo "$f"; grep -F "\\"\${f#${STORE_HOME}}\\"" ${FILES.vsftpdLog} | grep -F 'OK UPLOAD' | tail -n 1; done`,
      8000,
    );
  const [path, log = ''] = e.output.split('\n');
  const found = path?.startsWith(`${STORE_HOME}/`) ? path : undefined;
  return {
    path: found,
    fromWeb: !!found && uploadedBy(log, site.web),
    evidence: {
      ...e,
      command: `find the upload made at the start (${HELD_NAME}, ending in its nonce) on the store, and vsftpd's log of it`,
    },
  };
}

/** vsftpd's log shows an upload from this client address. */
const uploadedBy = (log: string, client: string) =>
  new RegExp(`OK UPLOAD: Client "${client.replace(/\./g, '\\.')}"`).test(log);

// ---- checks -------------------------------------------------------------------------------------

const ONCE = 1000; // checks that share the grader's upload judge it once; retrying would not change it

/** The service's JSON error of one bad upload, from curl's body and its last line (status, type). */
function jsonError(block: string): { code?: string; type?: string; error: string } {
  const lines = block.trim().split('\n');
  const [code, type] = (lines.at(-1) ?? '').split(' ');
  try {
    return {
      code,
      type,
      error: String((JSON.parse(lines.slice(1, -1).join('\n')) as { error?: unknown }).error ?? ''),
    };
  } catch {
    return { code, type, error: '' };
  }
}

const errorsCheck = (world: World, site: Site): Check => ({
  id: 'errors',
  title: 'Bad uploads get clear JSON errors (no file part, empty file name, not a video)',
  points: 1,
  hint: [
    "What Bob's service answers, as Alice's side gets it, to uploads that are wrong on purpose: the status code and the body of each.",
    `From Alice's laptop: curl -i -F note=hi ${BASE_URL}/upload ; curl -i -F 'file=@/etc/hostname;filename=' ${BASE_URL}/upload ; curl -i -F file=@/etc/hostname ${BASE_URL}/upload . Each should answer 4xx with {"error": "..."}; ${VIDEO_LOG} on web says what the service did.`,
    `The service does this on its own: when it does not, ${CONFIG_FILE} is not valid JSON (node -e 'JSON.parse(require("fs").readFileSync("${CONFIG_FILE}", "utf8"))' on web says where), or the service's code was changed: npx hurrynet lab 12 --reset brings Bob's back.`,
  ],
  async run(ctx) {
    const probe = await aliceSide(ctx, world);
    const { address, result } = await resolveWith(probe, WEB_HOST, site.resolver);
    if (!address) return fail(`${WEB_HOST} does not resolve through Alice's home router`, result.evidence);
    const cases = [
      { what: 'no file part', form: `-F note=hello`, want: [400] },
      {
        what: 'an empty file name',
        form: `-F 'file=@/tmp/bad.txt;filename=;type=application/octet-stream'`,
        want: [400],
      },
      {
        what: 'a text file called clip.mp4',
        form: `-F 'file=@/tmp/bad.txt;filename=clip.mp4;type=video/mp4'`,
        want: [415, 400, 422],
      },
    ];
    const e = await probe.run(
      `printf 'these are notes, not a video\\n' > /tmp/bad.txt; ` +
        cases
          .map(
            (c) =>
              `echo "== ${c.what}"; curl -sS -m 20 --resolve ${WEB_HOST}:80:${address} ${c.form} -w '\\n%{http_code} %{content_type}\\n' ${BASE_URL}/upload`,
          )
          .join('; '),
      30000,
    );
    const blocks = e.output.split(/^== /m).slice(1);
    for (const [i, c] of cases.entries()) {
      const { code, type, error } = jsonError(blocks[i] ?? '');
      if (!c.want.includes(Number(code)))
        return fail(`an upload with ${c.what} answered ${code || 'nothing'}, expected ${c.want.join(' or ')}`, e);
      if (!/json/.test(type ?? '') || !error.trim())
        return fail(`an upload with ${c.what} answered ${code} without a JSON {"error": ...} body`, e);
    }
    return pass(
      'no file part and an empty file name got 400, a file that is not a video got 415, each with a JSON error',
      e,
    );
  },
});

const uploadCheck = (g: Grader, site: Site): Check => ({
  id: 'upload',
  title: `A video uploaded from Alice's side is accepted (201 Created)`,
  points: 2,
  deadlineMs: ONCE,
  hint: [
    `The JSON answer to an upload from Alice's laptop: which step refused it, the store (503) or the transcoder (500)? For the store, compare each setting under "store" in ${CONFIG_FILE} with what works by hand from the web server.`,
    `On alice: curl -s -o clip.mp4 ${BASE_URL}/sample.mp4 ; curl -i -F file=@clip.mp4 ${BASE_URL}/upload . On web: tail ${VIDEO_LOG}; nc -vz <address> 21 and curl ftp://${STORE_USER}:${STORE_PASSWORD}@<address>/ (npx hurrynet graph names the store's address on vpc). The store's error: EHOSTUNREACH, no machine at that address; ECONNREFUSED, nothing on that port; 530, the wrong account; a timeout, either the network path lost packets or the store was too slow to answer.`,
    `In ${CONFIG_FILE}: "store": { "host": "${site.ftp}", "port": 21, "user": "${STORE_USER}", "password": "${STORE_PASSWORD}", "folder": "<store_folder from your task card>" } (inside Bob's network, the store's private address). A 500 is the transcoder: see the playlist and segments hints.`,
  ],
  async run(ctx) {
    const u = await g.upload(ctx);
    if (u.broken) return fail(u.broken, ...u.evidence);
    if (u.status !== 201 || !u.id || !u.clip) return fail(`the grader's upload got ${serviceSaid(u)}`, ...u.evidence);
    // Far end: the service saw the request arrive from Alice's public address (through her NAT).
    const log = await loggedRequests(ctx.node('web'), u.clip.nonce);
    const arrived = log.entries.some((x) => x.client === site.alicePublic && x.method === 'POST' && x.status === 201);
    if (!arrived)
      return fail(
        `the upload was answered 201, but Bob's access log shows no POST from Alice's public address ${site.alicePublic} with 201`,
        ...u.evidence,
        log.evidence,
      );
    return pass(
      `the ${u.clip.seconds} s clip was accepted as ${u.id} (201), arriving from ${site.alicePublic}`,
      ...u.evidence,
      log.evidence,
    );
  },
});

const storedCheck = (v: VideoVars, g: Grader, site: Site): Check => ({
  id: 'stored',
  title: `The upload arrives on Bob's FTP store, in the folder "${v.folder}"`,
  points: 2,
  deadlineMs: ONCE,
  hint: [
    `Bob's file store itself: is the grader's upload there, in the folder your task card names (store_folder), put there over FTP by the web server?`,
    `On web: curl -s ftp://${STORE_USER}:${STORE_PASSWORD}@${site.ftp}/${v.folder}/ lists the folder; on the ftp node, ${FILES.vsftpdLog} logs every login and upload, and find ${STORE_HOME} -type f shows where files landed.`,
    `Set "folder": "${v.folder}" under "store" in ${CONFIG_FILE}, next to store settings that work (the service creates the folder on the store when it is missing).`,
  ],
  async run(ctx) {
    const u = await g.upload(ctx);
    if (u.broken || !u.clip) return fail(u.broken ?? 'there was no clip to look for', ...u.evidence);
    if (!u.id)
      return fail(
        `the upload was not accepted (${serviceSaid(u)}), so there is nothing to look for on the store`,
        ...u.evidence,
      );
    const name = `${u.id}.mp4`;
    const path = `${STORE_HOME}/${v.folder}/${name}`;
    const e = await ctx
      .node('ftp')
      .run(
        `if [ -f ${q(path)} ]; then sha256sum ${q(path)}; else echo "missing: ${path}"; find ${STORE_HOME} -type f -name ${q(name)}; fi; ` +
          `grep -F ${q(`"/${v.folder}/${name}"`)} ${FILES.vsftpdLog} 2>/dev/null | grep -F 'OK UPLOAD' | tail -n 1`,
        8000,
      );
    if (e.output.startsWith('missing:')) {
      const elsewhere = e.output
        .split('\n')
        .slice(1)
        .find((l) => l.startsWith('/'));
      if (elsewhere)
        return fail(
          `the clip is on the store, but at ${elsewhere} instead of in the folder ${v.folder}/`,
          ...u.evidence,
          e,
        );
      return fail(`the store has no ${name} (${serviceSaid(u)})`, ...u.evidence, e);
    }
    if (!e.output.startsWith(u.clip.sha256))
      return fail(`${path} is not the clip the grader uploaded (its sha256 differs)`, ...u.evidence, e);
    if (!uploadedBy(e.output, site.web))
      return fail(
        `${path} has the right bytes, but vsftpd's log shows no upload of it from the web node (${site.web})`,
        ...u.evidence,
        e,
      );
    return pass(
      `${path} holds exactly the grader's clip (same sha256), uploaded over FTP by the web node ${site.web}`,
      e,
    );
  },
});

const playlistCheck = (g: Grader): Check => ({
  id: 'playlist',
  title: "The playlist is served over HTTP from Alice's side and covers the whole clip",
  points: 2,
  deadlineMs: ONCE,
  hint: [
    "The playlist a player fetches (the upload's answer names it): does it list the segments of the whole video, do they really hold it, and does the playlist say the video is finished?",
    `From alice: curl -i ${BASE_URL}/hls/<id>/index.m3u8 ; add up its #EXTINF lines with curl -s ${BASE_URL}/hls/<id>/index.m3u8 | awk -F'[:,]' '/^#EXTINF/ { s += $2 } END { print s }' . On web, run ${TRANSCODER} by hand (bash ${TRANSCODER} /tmp/clip.mp4 /tmp/try 3) and read /tmp/try/index.m3u8; ffmpeg -h muxer=hls lists the options.`,
    `In ${TRANSCODER}: write into the folder the service passes as the second argument (out=$2), keep every segment and mark the playlist finished (-hls_playlist_type vod -hls_list_size 0), and spell the segment option as ffmpeg does (-hls_time).`,
  ],
  async run(ctx) {
    const [u, s] = await Promise.all([g.upload(ctx), g.stream(ctx)]);
    if (!s.ok) return fail(s.reason, ...s.evidence);
    const total = sum(s.segments.map((x) => x.seconds));
    const clip = u.clip?.seconds ?? 0;
    if (Math.abs(total - clip) > TOTAL_TOLERANCE) {
      const dropped =
        s.mediaSequence > 0
          ? ` (it starts at segment number ${s.mediaSequence}: the first ones were dropped from the list)`
          : '';
      return fail(
        `the playlist lists ${s.segments.length} segments adding up to ${total} s, but the uploaded clip lasts ${clip} s${dropped}`,
        ...s.evidence,
      );
    }
    // What the segments really hold: their frames' timestamps, not the playlist's claims.
    const media = sum(s.fetched.map((x) => x.seconds));
    if (s.fetched.some((f) => !f.ts))
      return fail(
        `the playlist's segments are not all MPEG-TS video that Alice's side can fetch, so they cannot cover the clip`,
        ...s.evidence,
      );
    if (Math.abs(media - clip) > TOTAL_TOLERANCE + 0.1)
      return fail(
        `the playlist's #EXTINF lines add up to ${total} s, but its segments hold ${media} s of video (their frames' timestamps), and the uploaded clip lasts ${clip} s`,
        ...s.evidence,
      );
    if (!s.ended)
      return fail(
        'the playlist has no #EXT-X-ENDLIST, so a player treats the finished video as a live stream that may still grow',
        ...s.evidence,
      );
    return pass(
      `the playlist lists ${s.segments.length} segments adding up to ${total} s, and they hold ${media} s of video: the whole ${clip} s clip; it is complete`,
      ...s.evidence,
    );
  },
});

/** Why a segment a player asks for does not come back, in the learner's terms ('' when it does). */
function unserved(f: FetchedSegment): string {
  if (!f.onSite) return `the segment ${f.uri} is not on ${BASE_URL}: the playlist sends a player elsewhere for it`;
  if (f.status !== 200 || f.bytes === 0)
    return `the segment ${f.uri} answered ${f.status || 'nothing'}${f.status === 200 ? ' with no bytes' : ''} from Alice's side`;
  if (!f.ts) return `${f.uri} is not an MPEG-TS segment (its packets do not start with the sync byte 0x47)`;
  return '';
}

const segmentsCheck = (v: VideoVars, g: Grader): Check => {
  const S = v.segmentSeconds;
  return {
    id: 'segments',
    title: `Every segment is served over HTTP and lasts ${S} s`,
    points: 2,
    deadlineMs: ONCE,
    hint: [
      `How long each segment really lasts (its video frames, not what the playlist claims), against the ${S} s your task card asks for; and whether a player gets every segment over HTTP.`,
      `On web: ffprobe -v error -show_entries format=duration -of csv=p=0 /srv/web/hls/<id>/segment000.ts ; hls.segmentSeconds in ${CONFIG_FILE}; the -force_key_frames and -hls_time options in ${TRANSCODER}. From alice, curl -I each segment URL of the playlist.`,
      `Set "hls": { "segmentSeconds": ${S} } in ${CONFIG_FILE}, and make ${TRANSCODER} ask for a keyframe at every segment start (a segment can only begin at one): -force_key_frames "expr:gte(t,n_forced*$seconds)" next to -hls_time "$seconds".`,
    ],
    async run(ctx) {
      const [u, s] = await Promise.all([g.upload(ctx), g.stream(ctx)]);
      if (!s.ok) return fail(s.reason, ...s.evidence);
      const problem = s.fetched.map(unserved).find(Boolean);
      if (problem) return fail(problem, ...s.evidence);
      // Each segment's length as its frames give it: a playlist can claim anything.
      const claimed = s.fetched.find((f) => Math.abs(f.seconds - f.listed) > SEGMENT_TOLERANCE + 0.15);
      if (claimed)
        return fail(
          `${claimed.uri} is listed as ${claimed.listed} s, but its frames' timestamps span ${claimed.seconds} s`,
          ...s.evidence,
        );
      const lengths = segmentProblem(
        s.fetched.map((f) => ({ uri: f.uri, seconds: f.seconds })),
        S,
      );
      if (lengths) return fail(lengths, ...s.evidence);
      const media = sum(s.fetched.map((x) => x.seconds));
      const clip = u.clip?.seconds ?? 0;
      if (Math.abs(media - clip) > TOTAL_TOLERANCE + 0.1)
        return fail(`the segments hold ${media} s of video, but the clip lasts ${clip} s`, ...s.evidence);
      return pass(
        `all ${s.segments.length} segments were served to Alice's side as MPEG-TS video of ${s.fetched.map((x) => x.seconds).join(' + ')} s (their frames' timestamps), ${media} s in all`,
        ...s.evidence,
      );
    },
  };
};

interface VideoRecord {
  id?: string;
  name?: string;
  state?: string;
  storedName?: string;
  error?: string;
}

/** Records of uploads that have not reached the store (yet, or ever). */
const waitingIn = (videos: VideoRecord[]) =>
  videos.filter((x) => x.state === 'waiting-for-store' || x.state === 'lost' || x.state === 'received');

/** The service's records, or undefined when they cannot be read. */
function recordsOf(text: string): VideoRecord[] | undefined {
  try {
    return (JSON.parse(text) as { videos?: VideoRecord[] }).videos ?? [];
  } catch {
    return undefined;
  }
}

/** Judges the records against the store, once they have settled (the far end decides, not the records). */
async function lossVerdict(
  ctx: CheckContext,
  videos: VideoRecord[],
  summary: Evidence,
  held: HeldUpload,
  site: Site,
): Promise<Verdict> {
  const waiting = waitingIn(videos);
  if (waiting.length)
    return fail(
      `${waiting.length} upload(s) never reached the store: ${waiting.map((x) => `${x.id} (${x.state})`).join(', ')}`,
      summary,
      held.evidence,
    );
  if (!videos.length) return fail('the service has no record of any upload', summary);
  // Every accepted upload must really be on the store (anywhere in Bob's folders).
  const names = videos.map((x) => x.storedName).filter((n): n is string => !!n && /^[A-Za-z0-9._-]+$/.test(n));
  if (!names.length) return fail("the service's records name no stored files", summary);
  const found = await ctx
    .node('ftp')
    .run(`find ${STORE_HOME} -type f \\( ${names.map((n) => `-name ${q(n)}`).join(' -o ')} \\) -printf '%f\\n'`, 8000);
  const absent = names.filter((n) => !found.output.split('\n').includes(n));
  if (absent.length)
    return fail(
      `the service says ${absent.join(', ')} reached the store, but the store does not have ${absent.length === 1 ? 'it' : 'them'}`,
      summary,
      found,
    );
  // The upload made at start must be on the store, put there by the web node.
  if (!held.path) {
    const listed = videos.some((x) => x.name === HELD_NAME);
    return fail(
      `the upload the service accepted at the start of the lab (${HELD_NAME}, kept while the store was broken) never reached the store${listed ? '' : ", and the service's records no longer list it: it was lost"}`,
      summary,
      held.evidence,
    );
  }
  if (!held.fromWeb)
    return fail(
      `${held.path} holds the upload made at the start, but vsftpd's log shows no upload of it from the web node (${site.web})`,
      summary,
      held.evidence,
    );
  return pass(
    `all ${videos.length} upload(s) the service accepted are on the store, among them ${HELD_NAME} from the start of the lab (${held.path})`,
    summary,
    held.evidence,
  );
}

const noLossCheck = (v: VideoVars, g: Grader, site: Site): Check => ({
  id: 'no-loss',
  title: 'No upload is lost: every upload the service accepted is on the store',
  points: 1,
  deadlineMs: ONCE,
  hint: [
    `The uploads the service kept while the store refused them, among them ${HELD_NAME} from the start of the lab: are those very files on the store now?`,
    `curl ${BASE_URL}/videos lists every upload and its state; on web, ls ${FILES.webDataDir}/video/spool and tail ${VIDEO_LOG}; on the ftp node, find ${STORE_HOME} -type f.`,
    `Fix the store settings in ${CONFIG_FILE} and wait a few seconds: the service retries what it kept every 5 s, and at once when ${CONFIG_FILE} changes. Never delete a kept upload or its record: that loses it.`,
  ],
  async run(ctx) {
    const u = await g.upload(ctx);
    if (u.broken) return fail(u.broken, ...u.evidence);
    // Uploads refused by the store are retried in the background: give a working store a moment.
    const deadline = Date.now() + (u.status === 201 ? 8000 * Math.max(1, ctx.timeScale) : 0);
    for (;;) {
      const [state, held] = await Promise.all([
        ctx.node('web').run(`cat ${STATE_FILE}`, 5000),
        heldOnStore(ctx, v.held, site),
      ]);
      const videos = recordsOf(state.output);
      if (!videos) return fail(`the service's records (${STATE_FILE}) cannot be read`, short(state));
      if ((waitingIn(videos).length || !held.path) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      const summary: Evidence = {
        ...state,
        output:
          videos.map((x) => `${x.id}  ${x.state}  ${x.name}${x.error ? `  (${x.error})` : ''}`).join('\n') ||
          '(no uploads)',
      };
      return lossVerdict(ctx, videos, summary, held, site);
    }
  },
});

function checks(v: VideoVars, world: World): Check[] {
  const site = siteOf(world);
  const g = grader(v, world, site);
  return [
    errorsCheck(world, site),
    uploadCheck(g, site),
    storedCheck(v, g, site),
    playlistCheck(g),
    segmentsCheck(v, g),
    noLossCheck(v, g, site),
  ];
}

// ---- the lab ------------------------------------------------------------------------------------

function taskCard(v: VideoVars): Record<string, string> {
  return {
    upload_url: `${BASE_URL}/upload`,
    segment_seconds: `${v.segmentSeconds}`,
    store_folder: v.folder,
  };
}

function faults(v: VideoVars, world: World): Fault[] {
  const card = Object.entries(taskCard(v))
    .map(([k, x]) => `${k}: ${x}`)
    .join('\n');
  return [
    {
      node: 'web',
      description: "Bob's unfinished video pipeline (placeholders, one wrong store setting, one broken transcoder)",
      script: [
        heredoc(CONFIG_FILE, startConfig(v, world)),
        breakTranscoder(v.hlsFault),
        // The learner works on this node too: the same task card as on Alice's laptop.
        heredoc(FILES.taskCard, card),
        // An upload made now, while the store is broken: the service keeps it, and it must reach
        // the store once the settings are fixed. Its last bytes (an MP4 "free" box) carry the
        // seed's nonce, so the grader knows it on the store whatever the records say.
        'held=/tmp/hurrynet-held.mp4',
        'curl -sSf -m 120 -o "$held" http://127.0.0.1/sample.mp4',
        `printf '${heldTrailer(v.held)}' >> "$held"`,
        `setsid -f sh -c "curl -s -m 120 -o /dev/null -F 'file=@$held;filename=${HELD_NAME};type=video/mp4' http://127.0.0.1/upload; rm -f $held" </dev/null >/dev/null 2>&1`,
        `for _ in $(seq 1 300); do grep -qF '"${HELD_NAME}"' ${STATE_FILE} 2>/dev/null && exit 0; sleep 0.1; done`,
        `echo "the video service did not take the lab's own upload (${HELD_NAME})" >&2; exit 1`,
      ].join('\n'),
    },
  ];
}

export default defineLab<VideoVars>({
  number: 12,
  slug: 'video-service',
  title: 'The video service: upload, store, stream',
  topics: ['multipart upload', 'FTP (basic-ftp)', 'HLS', 'ffmpeg', 'HTTP status codes', 'NAT hairpin'],
  minutes: 45,
  goal: "Finish Bob's video pipeline on his web server: a video uploaded from Alice's laptop must reach the FTP store and come back as an HLS stream of the segment length your task card asks for.",
  submissionNodes: ['web'],
  questions: [],
  vary,
  task: taskCard,
  faults,
  checks,
});
