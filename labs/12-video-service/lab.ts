// Lab 12: the video service, upload -> store -> stream. Bob's web node runs an express service
// (images/web/app/video.js) that takes a video as a multipart POST, hands it to the FTP store with
// basic-ftp, cuts it into an HLS stream with ffmpeg and serves the playlist and segments over HTTP.
// Its settings (video/config.json) and its ffmpeg step (video/transcode.sh) are the learner's to
// finish: the lab starts with Bob's placeholders (no store folder, 10 s segments), one broken store
// setting and one broken transcoder, both chosen per seed.
//
// Graded by doing what a viewer and an uploader would do, from a clean probe in Alice's network
// namespace (through her NAT and Bob's edge): the grader makes a fresh clip of a random length on
// the web node (ffmpeg lavfi, with a nonce in its metadata), uploads it with curl -F, then finds the
// same bytes on the FTP node (far end: the file's sha256 and vsftpd's log of the upload from the web
// node), and fetches the playlist and every segment over HTTP, checking their lengths against the
// clip and the seed's segment length. Bad uploads must get clear JSON errors, and no upload the
// service accepted may be left behind (the service's own records, checked against the store).
import { randomBytes, randomInt } from 'node:crypto';
import { defineLab, type Fault, type Vars } from '../../orchestrator/lab.js';
import { canonicalWorld, findNode, type Node } from '../../orchestrator/world.js';
import { fail, pass, type Check, type CheckContext, type Evidence, type Host } from '../../checks/types.js';
import { q, resolveWith } from '../../checks/probes.js';

// ---- facts from the world data ----------------------------------------------------------------

const bare = (cidr: string) => cidr.split('/')[0] as string;
const addressOn = (node: Node | undefined, link: string) => bare(node?.interfaces.find((i) => i.link === link)?.addresses[0] ?? '');
const homeNode = findNode(canonicalWorld, 'home');
const webNode = findNode(canonicalWorld, 'web');
const ftpNode = findNode(canonicalWorld, 'ftp');
const vpc = canonicalWorld.links.find((l) => l.name === 'vpc');
if (!homeNode || !webNode || !ftpNode || !vpc) throw new Error('lab 12: the world lacks the home, web or ftp node or the vpc link');

/** The home router: Alice's resolver (home side) and her public address (access side). */
export const RESOLVER = addressOn(homeNode, 'home');
export const ALICE_PUBLIC = addressOn(homeNode, 'access');
/** Bob's web node and file store, by their private addresses in the VPC. */
export const WEB = addressOn(webNode, 'vpc');
export const FTP = addressOn(ftpNode, 'vpc');
export const VPC_PREFIX = vpc.prefix;
export const PUBLIC_NAME = 'web.bob.example';
export const STORE_PUBLIC_NAME = 'ftp.bob.example';
export const BASE_URL = `http://${PUBLIC_NAME}`;

// ---- the service's files on the web node (see images/web/app/video.js) ---------------------------

export const VIDEO_DIR = '/srv/web/video';
export const CONFIG_FILE = `${VIDEO_DIR}/config.json`;
export const TRANSCODER = `${VIDEO_DIR}/transcode.sh`;
export const STATE_FILE = '/srv/web/data/video/videos.json';
export const VIDEO_LOG = '/var/log/web/video.log';
export const ACCESS_LOG = '/var/log/web/access.log';
/** Bob's account on the store (images/ftp/Dockerfile); vsftpd chroots it to its home. */
export const STORE_USER = 'bob';
export const STORE_PASSWORD = 'bobpass';
export const STORE_HOME = '/home/bob';
export const VSFTPD_LOG = '/var/log/vsftpd.log';
/** The segment length Bob left in the config: never a seed's value. */
export const PLACEHOLDER_SECONDS = 10;

// ---- variation ------------------------------------------------------------------------------------

export const SEGMENT_SECONDS = [2, 3, 4] as const;
export const STORE_FAULTS = ['host-public', 'host-typo', 'password', 'port'] as const;
export const HLS_FAULTS = ['keyframes', 'option', 'window', 'outdir'] as const;
export type StoreFault = (typeof STORE_FAULTS)[number];
export type HlsFault = (typeof HLS_FAULTS)[number];
const FOLDER_WORDS = ['clips', 'reels', 'footage', 'movies', 'uploads', 'videos', 'originals', 'masters'];
const COLOURS = ['amber', 'teal', 'violet', 'coral', 'indigo', 'olive', 'crimson', 'slate'];
/** Free addresses in Bob's VPC next to the store's (digits swapped or off by one). */
export const TYPO_HOSTS = ['10.0.1.12', '10.0.1.20', '10.0.1.22', '10.0.1.210'] as const;
export const WRONG_PASSWORDS = ['bobpas', 'Bobpass', 'bob-pass', 'password'] as const;
/** Port 20 is FTP's old active-mode data port, 2121 a common "alternative" FTP port. */
export const WRONG_PORTS = [20, 2121] as const;

export interface VideoVars {
  segmentSeconds: number;
  folder: string;
  storeFault: StoreFault;
  hlsFault: HlsFault;
  /** The broken store setting's value (an address, a password or a port). */
  wrongValue: string;
}

export function videoVars(v: Vars): VideoVars {
  return {
    segmentSeconds: Number(v.segmentSeconds),
    folder: String(v.folder),
    storeFault: String(v.storeFault) as StoreFault,
    hlsFault: String(v.hlsFault) as HlsFault,
    wrongValue: String(v.wrongValue),
  };
}

// ---- the files the lab writes ---------------------------------------------------------------------

export interface StoreSettings {
  host: string;
  port: number;
  user: string;
  password: string;
  folder: string;
}

/** The correct store settings for this learner. */
export function goodStore(v: VideoVars): StoreSettings {
  return { host: FTP, port: 21, user: STORE_USER, password: STORE_PASSWORD, folder: v.folder };
}

/** Bob's unfinished config: no folder yet, his placeholder segment length, one wrong store setting. */
export function startConfig(v: VideoVars): string {
  const store: StoreSettings = { ...goodStore(v), folder: '' };
  if (v.storeFault === 'host-public') store.host = STORE_PUBLIC_NAME;
  if (v.storeFault === 'host-typo') store.host = v.wrongValue;
  if (v.storeFault === 'password') store.password = v.wrongValue;
  if (v.storeFault === 'port') store.port = Number(v.wrongValue);
  return configText(store, PLACEHOLDER_SECONDS);
}

export function configText(store: StoreSettings, segmentSeconds: number): string {
  return `${JSON.stringify({ store, hls: { segmentSeconds }, maxUploadMB: 50 }, null, 2)}\n`;
}

const SCRIPT_HEAD = `#!/bin/bash
# Bob's transcoder: turns one uploaded video into an HLS stream, a playlist (index.m3u8) and
# segments of a few seconds each. The video service runs it as
#   transcode.sh INPUT OUTPUT_DIR SEGMENT_SECONDS
# and serves OUTPUT_DIR at http://web.bob.example/hls/<id>/.
set -euo pipefail
`;

/** The transcoder: correct without a fault, else with this seed's mistake. */
export function transcodeScript(fault?: HlsFault): string {
  const out = fault === 'outdir' ? 'out=/tmp/hls/$(basename "$2")' : 'out=$2';
  const keyframes = fault === 'keyframes' ? [] : ['  -force_key_frames "expr:gte(t,n_forced*$seconds)" \\'];
  const time = fault === 'option' ? '-hls_segment_time "$seconds"' : '-hls_time "$seconds"';
  const list = fault === 'window' ? '-hls_list_size 2' : '-hls_playlist_type vod -hls_list_size 0';
  return [
    SCRIPT_HEAD + 'input=$1',
    out,
    'seconds=$3',
    '',
    'mkdir -p "$out"',
    'ffmpeg -nostdin -hide_banner -loglevel error -y -i "$input" \\',
    "  -map 0:v:0 -map '0:a:0?' \\",
    '  -c:v libx264 -preset veryfast -crf 28 -pix_fmt yuv420p -c:a aac -b:a 96k \\',
    ...keyframes,
    `  -f hls ${time} ${list} \\`,
    '  -hls_segment_filename "$out/segment%03d.ts" \\',
    '  "$out/index.m3u8"',
    '',
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
export function parsePlaylist(text: string): { ok: boolean; segments: Segment[]; ended: boolean; mediaSequence: number } {
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
    if (s.seconds > segmentSeconds + SEGMENT_TOLERANCE) return `${s.uri} lasts ${s.seconds} s, longer than the ${segmentSeconds} s segments the task asks for`;
    if (!last && Math.abs(s.seconds - segmentSeconds) > SEGMENT_TOLERANCE) return `${s.uri} lasts ${s.seconds} s; every segment but the last should last ${segmentSeconds} s`;
  }
  return '';
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

interface StreamRun {
  ok: boolean;
  reason: string;
  playlistUrl?: string;
  segments: Segment[];
  ended: boolean;
  mediaSequence: number;
  /** Per segment: HTTP status, bytes, whether it looks like MPEG-TS. */
  fetched: { uri: string; status: number; bytes: number; ts: boolean }[];
  evidence: Evidence[];
}

/** How long the grader waits for its upload to be stored and transcoded (a working pipeline: 1-3 s). */
const UPLOAD_TIMEOUT = 30;
const uploads = new WeakMap<CheckContext, Promise<UploadRun>>();
const streams = new WeakMap<CheckContext, Promise<StreamRun>>();

const short = (e: Evidence, max = 1500): Evidence => ({ ...e, output: e.output.length > max ? `${e.output.slice(0, max)}\n...` : e.output });

async function makeClip(web: Host, segmentSeconds: number): Promise<{ clip?: Clip; b64?: string; evidence: Evidence[] }> {
  const nonce = randomBytes(6).toString('hex');
  const seconds = clipSeconds(segmentSeconds, randomInt(0, 1000) / 1000);
  const file = `/tmp/hurrynet-grader-${nonce}.mp4`;
  const gen = await web.run(
    `ffmpeg -nostdin -v error -y -f lavfi -i testsrc=size=160x120:rate=10:duration=${seconds} -c:v libx264 -preset veryfast -crf 35 -pix_fmt yuv420p ` +
      `-metadata comment=hurrynet-grader-${nonce} -movflags +faststart ${file} && stat -c %s ${file} && sha256sum ${file}`,
    30000,
  );
  const m = /^(\d+)\n([0-9a-f]{64}) /m.exec(gen.output);
  if (gen.exitCode !== 0 || !m) return { evidence: [gen] };
  const bytes = Number(m[1]);
  // The probe has no ffmpeg, so the clip travels as base64 in pieces small enough for one command.
  let b64 = '';
  const CHUNK = 15000;
  for (let from = 1; ; from += CHUNK) {
    const part = await web.run(`base64 -w0 ${file} | cut -c${from}-${from + CHUNK - 1}`, 10000);
    if (part.exitCode !== 0) return { evidence: [gen, part] };
    const text = part.output.trim();
    b64 += text;
    if (text.length < CHUNK) break;
  }
  await web.run(`rm -f ${file}`, 5000);
  return { clip: { nonce, seconds, sha256: m[2] as string, bytes, name: `grader-${nonce}.mp4` }, b64, evidence: [{ ...gen, output: `${seconds} s clip, ${bytes} bytes\n${gen.output}` }] };
}

function graderUpload(ctx: CheckContext): Promise<UploadRun> {
  let run = uploads.get(ctx);
  if (!run) {
    run = (async (): Promise<UploadRun> => {
      const v = videoVars(ctx.vars);
      const [probe, made] = await Promise.all([ctx.probe('alice'), makeClip(ctx.node('web'), v.segmentSeconds)]);
      const { address, result } = await resolveWith(probe, PUBLIC_NAME, RESOLVER);
      if (!address) return { status: 0, broken: `${PUBLIC_NAME} does not resolve through Alice's home router`, evidence: [result.evidence] };
      if (!made.clip || made.b64 === undefined) return { status: 0, broken: 'the grader could not make its test clip with ffmpeg on the web node', address, evidence: made.evidence };
      const clip = made.clip;
      const local = `/tmp/${clip.name}`;
      const b64file = `/tmp/${clip.nonce}.b64`;
      for (let i = 0; i < made.b64.length; i += 60000) {
        const put = await probe.run(`printf '%s' ${q(made.b64.slice(i, i + 60000))} >> ${b64file}`, 10000);
        if (put.exitCode !== 0) return { status: 0, broken: 'the grader could not copy its clip into the probe', clip, evidence: [short(put)] };
      }
      const check = await probe.run(`base64 -d ${b64file} > ${local} && sha256sum ${local}`, 10000);
      if (!check.output.startsWith(clip.sha256)) return { status: 0, broken: 'the clip copied into the probe is damaged', clip, evidence: [check] };
      const up = await probe.run(
        `curl -sS -m ${UPLOAD_TIMEOUT} -A hurrynet-grader/${clip.nonce} --resolve ${PUBLIC_NAME}:80:${address} -F ${q(`file=@${local};type=video/mp4`)} ` +
          `-w '\\n%{http_code}' ${BASE_URL}/upload`,
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
      const shown: Evidence = { ...up, command: `curl -F file=@${clip.name} ${BASE_URL}/upload   (a ${clip.seconds} s clip, ${clip.bytes} bytes, sha256 ${clip.sha256.slice(0, 16)}...)` };
      return { clip, status, json, id, address, evidence: [...made.evidence, short(shown)] };
    })();
    uploads.set(ctx, run);
  }
  return run;
}

/** The upload's error in the service's words, for reasons. */
function serviceSaid(u: UploadRun): string {
  const err = typeof u.json?.error === 'string' ? u.json.error : '';
  const detail = typeof u.json?.detail === 'string' ? u.json.detail.trim().split('\n').slice(0, 2).join(' / ') : '';
  return err ? `${u.status}: ${err}${detail ? ` (${detail.slice(0, 200)})` : ''}` : u.status ? `HTTP ${u.status}` : `no answer within ${UPLOAD_TIMEOUT} s`;
}

function graderStream(ctx: CheckContext): Promise<StreamRun> {
  let run = streams.get(ctx);
  if (!run) {
    run = (async (): Promise<StreamRun> => {
      const u = await graderUpload(ctx);
      const none = (reason: string, evidence: Evidence[] = u.evidence.slice(-1)): StreamRun => ({ ok: false, reason, segments: [], ended: false, mediaSequence: 0, fetched: [], evidence });
      if (u.broken) return none(u.broken);
      if (!u.id) return none(`the upload was not accepted (${serviceSaid(u)}), so there is no stream to fetch`);
      if (u.status !== 201) return none(`the upload got ${serviceSaid(u)}, so there is no stream to fetch`);
      const advertised = typeof u.json?.playlist === 'string' && /^\/[A-Za-z0-9._/-]+\.m3u8$/.test(u.json.playlist) ? u.json.playlist : `/hls/${u.id}/index.m3u8`;
      const playlistUrl = `${BASE_URL}${advertised}`;
      const probe = await ctx.probe('alice');
      const resolve = `--resolve ${PUBLIC_NAME}:80:${u.address}`;
      const pl = await probe.run(`curl -sS -m 10 ${resolve} -w '\\n%{http_code} %{content_type}' ${q(playlistUrl)}`, 15000);
      const lines = pl.output.replace(/\n$/, '').split('\n');
      const [code, type] = (lines.at(-1) ?? '').split(' ');
      const text = lines.slice(0, -1).join('\n');
      const shownPl: Evidence = short({ ...pl, command: `curl ${playlistUrl}` }, 2500);
      if (pl.exitCode !== 0 || code !== '200') return none(`GET ${advertised} from Alice's side answered ${pl.exitCode === 0 ? code : 'nothing'}`, [shownPl]);
      const parsed = parsePlaylist(text);
      if (!parsed.ok) return none(`${advertised} is not an HLS playlist (it does not start with #EXTM3U; Content-Type ${type || 'none'})`, [shownPl]);
      // Every segment, fetched the way a player would: relative to the playlist's URL.
      const base = new URL(playlistUrl);
      const urls = parsed.segments.map((s) => new URL(s.uri, base).href).filter((h) => h.startsWith(`${BASE_URL}/`));
      const fetch = urls.length
        ? await probe.run(
            urls
              .map((h) => `c=$(curl -sS -m 10 ${resolve} -o /tmp/seg -w '%{http_code} %{size_download}' ${q(h)} 2>&1); ` +
                `s=$(od -An -tx1 -j0 -N1 /tmp/seg 2>/dev/null | tr -d ' ')$(od -An -tx1 -j188 -N1 /tmp/seg 2>/dev/null | tr -d ' '); echo "${h.slice(BASE_URL.length)} $c $s"; rm -f /tmp/seg`)
              .join('\n'),
            20000,
          )
        : undefined;
      const fetched = parsed.segments.map((s, i) => {
        const line = fetch?.output.split('\n').find((l) => l.startsWith(`${(urls[i] ?? '').slice(BASE_URL.length)} `)) ?? '';
        const [, status, bytes, sync] = line.split(' ');
        return { uri: s.uri, status: Number(status) || 0, bytes: Number(bytes) || 0, ts: sync === '4747' };
      });
      const evidence = [shownPl, ...(fetch ? [short({ ...fetch, command: `curl each segment listed in ${advertised} (status, bytes, first bytes of packets 1 and 2)` }, 2500)] : [])];
      return { ok: true, reason: '', playlistUrl, segments: parsed.segments, ended: parsed.ended, mediaSequence: parsed.mediaSequence, fetched, evidence };
    })();
    streams.set(ctx, run);
  }
  return run;
}

// ---- checks -------------------------------------------------------------------------------------

const ONCE = 1000; // checks that share the grader's upload judge it once; retrying would not change it

function checks(vars: Vars): Check[] {
  const v = videoVars(vars);
  const S = v.segmentSeconds;
  return [
    {
      id: 'errors',
      title: 'Bad uploads get clear JSON errors (no file part, empty file name, not a video)',
      points: 1,
      hint: `Try them yourself from Alice's laptop: curl -i -F note=hi ${BASE_URL}/upload ; curl -i -F 'file=@/etc/hostname;filename=' ${BASE_URL}/upload ; curl -i -F file=@/etc/hostname ${BASE_URL}/upload. Each should answer 4xx with {"error": "..."}; if not, restore Bob's video service (images/web/app/video.js) and check ${CONFIG_FILE} is valid JSON.`,
      async run(ctx) {
        const probe = await ctx.probe('alice');
        const { address, result } = await resolveWith(probe, PUBLIC_NAME, RESOLVER);
        if (!address) return fail(`${PUBLIC_NAME} does not resolve through Alice's home router`, result.evidence);
        const cases = [
          { what: 'no file part', form: `-F note=hello`, want: [400] },
          { what: 'an empty file name', form: `-F 'file=@/tmp/bad.txt;filename=;type=application/octet-stream'`, want: [400] },
          { what: 'a text file called clip.mp4', form: `-F 'file=@/tmp/bad.txt;filename=clip.mp4;type=video/mp4'`, want: [415, 400, 422] },
        ];
        const e = await probe.run(
          `printf 'these are notes, not a video\\n' > /tmp/bad.txt; ` +
            cases.map((c) => `echo "== ${c.what}"; curl -sS -m 20 --resolve ${PUBLIC_NAME}:80:${address} ${c.form} -w '\\n%{http_code} %{content_type}\\n' ${BASE_URL}/upload`).join('; '),
          30000,
        );
        const blocks = e.output.split(/^== /m).slice(1);
        for (const [i, c] of cases.entries()) {
          const lines = (blocks[i] ?? '').trim().split('\n');
          const [code, type] = (lines.at(-1) ?? '').split(' ');
          let error = '';
          try {
            error = String((JSON.parse(lines.slice(1, -1).join('\n')) as { error?: unknown }).error ?? '');
          } catch {
            error = '';
          }
          if (!c.want.includes(Number(code))) return fail(`an upload with ${c.what} answered ${code || 'nothing'}, expected ${c.want.join(' or ')}`, e);
          if (!/json/.test(type ?? '') || !error.trim()) return fail(`an upload with ${c.what} answered ${code} without a JSON {"error": ...} body`, e);
        }
        return pass('no file part and an empty file name got 400, a file that is not a video got 415, each with a JSON error', e);
      },
    },
    {
      id: 'upload',
      title: `A video uploaded from Alice's side is accepted (201 Created)`,
      points: 2,
      deadlineMs: ONCE,
      hint: `Upload the sample from Alice's laptop and read the JSON answer: curl -s -o clip.mp4 ${BASE_URL}/sample.mp4 ; curl -i -F file=@clip.mp4 ${BASE_URL}/upload. A 503 names the store problem (check store.host, store.port and the password in ${CONFIG_FILE} against the topology and the handout; from inside Bob's network the store is reached by its private address), a 500 quotes ffmpeg (look at ${TRANSCODER}). tail ${VIDEO_LOG} on the web node shows every step.`,
      async run(ctx) {
        const u = await graderUpload(ctx);
        if (u.broken) return fail(u.broken, ...u.evidence);
        if (u.status !== 201 || !u.id) return fail(`the grader's upload got ${serviceSaid(u)}`, ...u.evidence);
        // Far end: the service saw the request arrive from Alice's public address (through her NAT).
        const log = await ctx.node('web').run(`grep -F ${q(`hurrynet-grader/${u.clip?.nonce}`)} ${ACCESS_LOG} | tail -n 2`, 5000);
        const arrived = log.output.split('\n').some((l) => l.includes(`"client":"${ALICE_PUBLIC}"`) && l.includes('"method":"POST"') && l.includes('"status":201'));
        if (!arrived) return fail(`the upload was answered 201, but Bob's access log shows no POST from Alice's public address ${ALICE_PUBLIC} with 201`, ...u.evidence, log);
        return pass(`the ${u.clip?.seconds} s clip was accepted as ${u.id} (201), arriving from ${ALICE_PUBLIC}`, ...u.evidence, log);
      },
    },
    {
      id: 'stored',
      title: `The upload arrives on Bob's FTP store, in the folder "${v.folder}"`,
      points: 2,
      deadlineMs: ONCE,
      hint: `The service hands each upload to the store with basic-ftp; its folder is store.folder in ${CONFIG_FILE} (your task card names it). Check what the store has: on the web node, curl -s ftp://${STORE_USER}:<password>@${FTP}/${v.folder}/ lists the folder; the ftp node's ${VSFTPD_LOG} logs every login and upload.`,
      async run(ctx) {
        const u = await graderUpload(ctx);
        if (u.broken || !u.clip) return fail(u.broken ?? 'there was no clip to look for', ...u.evidence);
        if (!u.id) return fail(`the upload was not accepted (${serviceSaid(u)}), so there is nothing to look for on the store`, ...u.evidence);
        const name = `${u.id}.mp4`;
        const path = `${STORE_HOME}/${v.folder}/${name}`;
        const e = await ctx.node('ftp').run(
          `if [ -f ${q(path)} ]; then sha256sum ${q(path)}; else echo "missing: ${path}"; find ${STORE_HOME} -type f -name ${q(name)}; fi; ` +
            `grep -F ${q(`"/${v.folder}/${name}"`)} ${VSFTPD_LOG} 2>/dev/null | grep -F 'OK UPLOAD' | tail -n 1`,
          8000,
        );
        if (e.output.startsWith('missing:')) {
          const elsewhere = e.output.split('\n').slice(1).find((l) => l.startsWith('/'));
          if (elsewhere) return fail(`the clip is on the store, but at ${elsewhere} instead of in the folder ${v.folder}/`, ...u.evidence, e);
          return fail(`the store has no ${name} (${serviceSaid(u)})`, ...u.evidence, e);
        }
        if (!e.output.startsWith(u.clip.sha256)) return fail(`${path} is not the clip the grader uploaded (its sha256 differs)`, ...u.evidence, e);
        if (!new RegExp(`OK UPLOAD: Client "${WEB.replace(/\./g, '\\.')}"`).test(e.output)) {
          return fail(`${path} has the right bytes, but vsftpd's log shows no upload of it from the web node (${WEB})`, ...u.evidence, e);
        }
        return pass(`${path} holds exactly the grader's clip (same sha256), uploaded over FTP by the web node ${WEB}`, e);
      },
    },
    {
      id: 'playlist',
      title: "The playlist is served over HTTP from Alice's side and covers the whole clip",
      points: 2,
      deadlineMs: ONCE,
      hint: `Fetch it as a player would: curl -i ${BASE_URL}/hls/<id>/index.m3u8 (the id is in the upload's answer). Add up the #EXTINF lines: they must cover the whole video, and a finished video (VOD) ends with #EXT-X-ENDLIST. If the playlist is missing, check where ${TRANSCODER} writes; if it lists only the last few segments, look at ffmpeg's -hls_list_size and -hls_playlist_type.`,
      async run(ctx) {
        const u = await graderUpload(ctx);
        const s = await graderStream(ctx);
        if (!s.ok) return fail(s.reason, ...s.evidence);
        const total = Math.round(s.segments.reduce((a, x) => a + x.seconds, 0) * 1000) / 1000;
        const clip = u.clip?.seconds ?? 0;
        if (Math.abs(total - clip) > TOTAL_TOLERANCE) {
          const dropped = s.mediaSequence > 0 ? ` (it starts at segment number ${s.mediaSequence}: the first ones were dropped from the list)` : '';
          return fail(`the playlist lists ${s.segments.length} segments adding up to ${total} s, but the uploaded clip lasts ${clip} s${dropped}`, ...s.evidence);
        }
        if (!s.ended) return fail('the playlist has no #EXT-X-ENDLIST, so a player treats the finished video as a live stream that may still grow', ...s.evidence);
        return pass(`the playlist lists ${s.segments.length} segments adding up to ${total} s, the length of the ${clip} s clip, and is complete`, ...s.evidence.slice(0, 1));
      },
    },
    {
      id: 'segments',
      title: `Every segment is served over HTTP and lasts ${S} s`,
      points: 2,
      deadlineMs: ONCE,
      hint: `Your task card asks for ${S} s segments: set hls.segmentSeconds in ${CONFIG_FILE}. ffmpeg can only start a segment at a keyframe, so the transcoder must also ask for a keyframe every ${S} s (-force_key_frames). curl -I each segment URL of the playlist to see it is served.`,
      async run(ctx) {
        const u = await graderUpload(ctx);
        const s = await graderStream(ctx);
        if (!s.ok) return fail(s.reason, ...s.evidence);
        const missing = s.fetched.find((f) => f.status !== 200 || f.bytes === 0);
        if (missing) return fail(`the segment ${missing.uri} answered ${missing.status || 'nothing'}${missing.status === 200 ? ' with no bytes' : ''} from Alice's side`, ...s.evidence);
        const notTs = s.fetched.find((f) => !f.ts);
        if (notTs) return fail(`${notTs.uri} is not an MPEG-TS segment (its packets do not start with the sync byte 0x47)`, ...s.evidence);
        const problem = segmentProblem(s.segments, S);
        if (problem) return fail(problem, ...s.evidence);
        // What a decoder makes of the served stream (ffprobe reads the playlist and segments over HTTP).
        const probed = await ctx.node('web').run(`ffprobe -v error -show_entries format=duration -of csv=p=0 ${q(`http://127.0.0.1${new URL(s.playlistUrl ?? BASE_URL).pathname}`)}`, 15000);
        const decoded = Number(probed.output.trim().split('\n').pop());
        const clip = u.clip?.seconds ?? 0;
        if (!(Math.abs(decoded - clip) <= TOTAL_TOLERANCE + 0.1)) {
          return fail(`ffprobe decodes ${Number.isFinite(decoded) ? `${decoded} s` : 'nothing'} from the served stream, but the clip lasts ${clip} s`, ...s.evidence, probed);
        }
        return pass(`all ${s.segments.length} segments were served from Alice's side as MPEG-TS, ${s.segments.map((x) => x.seconds).join(' + ')} s, and decode to ${decoded} s`, ...s.evidence, probed);
      },
    },
    {
      id: 'no-loss',
      title: 'No upload is lost: every upload the service accepted is on the store',
      points: 1,
      deadlineMs: ONCE,
      hint: `The service keeps an upload the store refused in /srv/web/data/video/spool and retries it every 5 s with the settings of the moment, so fixing the store settings flushes them. curl ${BASE_URL}/videos lists every upload and its state.`,
      async run(ctx) {
        const u = await graderUpload(ctx);
        if (u.broken) return fail(u.broken, ...u.evidence);
        const web = ctx.node('web');
        // Uploads refused by the store are retried in the background: give a working store a moment.
        const deadline = Date.now() + (u.status === 201 ? 8000 : 0);
        for (;;) {
          const state = await web.run(`cat ${STATE_FILE}`, 5000);
          let videos: { id?: string; name?: string; state?: string; storedName?: string; error?: string }[] = [];
          try {
            videos = (JSON.parse(state.output) as { videos: typeof videos }).videos ?? [];
          } catch {
            return fail(`the service's records (${STATE_FILE}) cannot be read`, short(state));
          }
          const waiting = videos.filter((x) => x.state === 'waiting-for-store' || x.state === 'lost' || x.state === 'received');
          const summary: Evidence = { ...state, output: videos.map((x) => `${x.id}  ${x.state}  ${x.name}${x.error ? `  (${x.error})` : ''}`).join('\n') || '(no uploads)' };
          if (waiting.length && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 500));
            continue;
          }
          if (waiting.length) return fail(`${waiting.length} upload(s) never reached the store: ${waiting.map((x) => `${x.id} (${x.state})`).join(', ')}`, summary);
          if (!videos.length) return fail('the service has no record of any upload', summary);
          // Every accepted upload must really be on the store (anywhere in Bob's folders).
          const names = videos.map((x) => x.storedName).filter((n): n is string => !!n && /^[A-Za-z0-9._-]+$/.test(n));
          if (!names.length) return fail("the service's records name no stored files", summary);
          const found = await ctx.node('ftp').run(`find ${STORE_HOME} -type f \\( ${names.map((n) => `-name ${q(n)}`).join(' -o ')} \\) -printf '%f\\n'`, 8000);
          const absent = names.filter((n) => !found.output.split('\n').includes(n));
          if (absent.length) return fail(`the service says ${absent.join(', ')} reached the store, but the store does not have ${absent.length === 1 ? 'it' : 'them'}`, summary, found);
          return pass(`all ${videos.length} upload(s) the service accepted are on the store`, summary);
        }
      },
    },
  ];
}

// ---- the lab ------------------------------------------------------------------------------------

function taskCard(v: VideoVars): Record<string, string> {
  return {
    upload_url: `${BASE_URL}/upload`,
    segment_seconds: String(v.segmentSeconds),
    store_folder: v.folder,
  };
}

function faults(vars: Vars): Fault[] {
  const v = videoVars(vars);
  const card = Object.entries(taskCard(v)).map(([k, x]) => `${k}: ${x}`).join('\n');
  return [
    {
      node: 'web',
      description: "Bob's unfinished video pipeline (placeholders, one wrong store setting, one broken transcoder)",
      script: [
        `mkdir -p ${VIDEO_DIR}`,
        `cat > ${CONFIG_FILE} <<'HURRYNET_CONFIG'\n${startConfig(v)}HURRYNET_CONFIG`,
        `cat > ${TRANSCODER} <<'HURRYNET_SCRIPT'\n${transcodeScript(v.hlsFault)}HURRYNET_SCRIPT`,
        `chmod 0755 ${TRANSCODER}`,
        // The learner works on this node too: the same task card as on Alice's laptop.
        `cat > /root/TASK.txt <<'HURRYNET_TASK'\n${card}\nHURRYNET_TASK`,
      ].join('\n'),
    },
  ];
}

export default defineLab({
  number: 12,
  slug: 'video-service',
  title: 'The video service: upload, store, stream',
  topics: ['multipart upload', 'FTP (basic-ftp)', 'HLS', 'ffmpeg', 'HTTP status codes', 'NAT hairpin'],
  minutes: 45,
  goal: "Finish Bob's video pipeline on his web server: a video uploaded from Alice's laptop must reach the FTP store and come back as an HLS stream of the segment length your task card asks for.",
  submissionNodes: ['web'],
  questions: [],
  vary(rng) {
    const storeFault = rng.pick(STORE_FAULTS);
    const wrongValue =
      storeFault === 'host-typo' ? rng.pick(TYPO_HOSTS) : storeFault === 'password' ? rng.pick(WRONG_PASSWORDS) : storeFault === 'port' ? String(rng.pick(WRONG_PORTS)) : STORE_PUBLIC_NAME;
    return {
      segmentSeconds: rng.pick(SEGMENT_SECONDS),
      folder: `${rng.pick(FOLDER_WORDS)}-${rng.pick(COLOURS)}`,
      storeFault,
      hlsFault: rng.pick(HLS_FAULTS),
      wrongValue,
    };
  },
  task: (vars) => taskCard(videoVars(vars)),
  faults,
  checks,
});
