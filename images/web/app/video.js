'use strict';
// Bob's video service: upload -> store -> stream. A video arrives as a multipart POST, goes to
// Bob's file store over FTP (basic-ftp), is cut into an HLS stream by ffmpeg (a playlist and
// segments) and is served over HTTP. Registered from server.js with require('./video')(app).
//
//   POST /upload          multipart/form-data with the video in a file field named "file"
//   GET  /videos          every upload and where it is in the pipeline
//   GET  /videos/:id      one upload
//   GET  /hls/:id/...     the stream: index.m3u8 and its segments
//   GET  /sample.mp4      a short test clip to try the pipeline with
//
// The settings are in video/config.json and the ffmpeg step is video/transcode.sh, both read
// on every upload, so an edit counts at once (no restart). An upload is never lost: it stays on
// local disk until the store has it; an attempt to store what waits starts every RETRY_MS (at once
// after an attempt that took longer), and at once when config.json changes.
const fs = require('fs');
const fsp = fs.promises;
const path = require('path');
const crypto = require('crypto');
const { execFile } = require('child_process');
const express = require('express');
const busboy = require('busboy');
const ftp = require('basic-ftp');

const VIDEO_DIR = process.env.VIDEO_DIR || path.join(__dirname, 'video');
const CONFIG_FILE = path.join(VIDEO_DIR, 'config.json');
const TRANSCODER = path.join(VIDEO_DIR, 'transcode.sh');
const DATA_DIR = process.env.VIDEO_DATA_DIR || '/srv/web/data/video';
const SPOOL_DIR = path.join(DATA_DIR, 'spool');
const STATE_FILE = path.join(DATA_DIR, 'videos.json');
const SAMPLE_FILE = path.join(DATA_DIR, 'sample.mp4');
const HLS_DIR = process.env.VIDEO_HLS_DIR || '/srv/web/hls';
const LOG_FILE = path.join(process.env.WEB_LOG_DIR || '/var/log/web', 'video.log');
const RETRY_MS = Number(process.env.VIDEO_RETRY_MS || 5000);
/** How long the store's address may take to answer a new connection: past it, the network path lost packets. */
const CONNECT_TIMEOUT_MS = 5000;
/** How long the store may take over each answer once connected (a wrong password alone makes vsftpd wait seconds). */
const STORE_TIMEOUT_MS = 20000;
const TRANSCODE_TIMEOUT_MS = 120000;

for (const dir of [SPOOL_DIR, HLS_DIR, path.dirname(LOG_FILE)]) fs.mkdirSync(dir, { recursive: true });
const videoLog = fs.createWriteStream(LOG_FILE, { flags: 'a' });
function log(message) {
  videoLog.write(`${new Date().toISOString()} ${message}\n`);
}

// ---- settings ----------------------------------------------------------------------------------

class ConfigError extends Error {}

/** Reads and checks video/config.json; every problem is reported in words a learner can act on. */
function readConfig() {
  let raw;
  try {
    raw = fs.readFileSync(CONFIG_FILE, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${CONFIG_FILE}: ${err.code || err.message}`);
  }
  let c;
  try {
    c = JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(`${CONFIG_FILE} is not valid JSON: ${err.message}`);
  }
  const s = (c && c.store) || {};
  const problems = [];
  if (typeof s.host !== 'string' || !s.host.trim()) problems.push('store.host must be the file store\'s address');
  const port = s.port === undefined ? 21 : Number(s.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push('store.port must be a TCP port number');
  if (typeof s.user !== 'string' || typeof s.password !== 'string') problems.push('store.user and store.password must be strings');
  const folder = s.folder === undefined ? '' : s.folder;
  if (typeof folder !== 'string' || (folder !== '' && !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(folder)) || /(^|\/)\.\.?(\/|$)/.test(folder)) {
    problems.push('store.folder must be a folder name on the store such as "videos" (letters, digits, . _ - and /)');
  }
  const seconds = Number(c && c.hls && c.hls.segmentSeconds);
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > 30) problems.push('hls.segmentSeconds must be a number of seconds from 1 to 30');
  const maxMB = c && c.maxUploadMB !== undefined ? Number(c.maxUploadMB) : 50;
  if (!Number.isFinite(maxMB) || maxMB <= 0) problems.push('maxUploadMB must be a positive number');
  if (problems.length) throw new ConfigError(`${CONFIG_FILE}: ${problems.join('; ')}`);
  return { store: { host: s.host.trim(), port, user: s.user, password: s.password, folder }, segmentSeconds: seconds, maxBytes: Math.round(maxMB * 1024 * 1024) };
}

// ---- state -------------------------------------------------------------------------------------

function loadState() {
  try {
    const items = JSON.parse(fs.readFileSync(STATE_FILE, 'utf8')).videos;
    return Array.isArray(items) ? items : [];
  } catch {
    return [];
  }
}
let videos = loadState();
// An upload caught half-way by a restart still has its local copy: the retry loop takes it over.
for (const v of videos) if (v.state === 'received' && v.spool && fs.existsSync(v.spool)) v.state = 'waiting-for-store';
function saveState() {
  const tmp = STATE_FILE + '.tmp';
  fs.writeFileSync(tmp, JSON.stringify({ videos }, null, 2));
  fs.renameSync(tmp, STATE_FILE);
}
function update(video, changes) {
  Object.assign(video, changes, { updated: new Date().toISOString() });
  saveState();
}
function publicView(v) {
  const { spool, ...rest } = v; // eslint-disable-line no-unused-vars
  return rest;
}

// ---- the pipeline steps ------------------------------------------------------------------------

function run(cmd, args, timeout) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, killed: !!(err && err.killed), stdout: String(stdout), stderr: String(stderr), error: err });
    });
  });
}

/** What ffprobe sees in a file: whether it has a video stream, and how long it lasts. */
async function probeVideo(file) {
  const r = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name:format=duration,format_name', '-of', 'json', file], 20000);
  if (r.code !== 0) return { video: false, why: `ffprobe says "${(r.stderr.trim().split('\n').pop() || 'cannot read it').replace(`${file}: `, '')}"` };
  let info;
  try {
    info = JSON.parse(r.stdout);
  } catch {
    return { video: false, why: 'ffprobe gave no answer' };
  }
  const streams = info.streams || [];
  const v = streams.find((s) => s.codec_type === 'video');
  const duration = Number(info.format && info.format.duration);
  // A still image is a one-frame "video" to ffprobe; a real clip has a duration.
  if (!v || !(duration > 0) || /image2|png_pipe|jpeg_pipe|gif|bmp_pipe|webp_pipe/.test((info.format && info.format.format_name) || '')) {
    return { video: false, why: v ? 'it is a picture, not a clip' : 'it has no video stream' };
  }
  return { video: true, duration: Math.round(duration * 1000) / 1000, codec: v.codec_name, format: info.format.format_name };
}

function storeUrl(store, name) {
  return `ftp://${store.host}${store.port === 21 ? '' : `:${store.port}`}/${store.folder ? `${store.folder}/` : ''}${name}`;
}

/** Hands a file to the FTP store with basic-ftp (passive mode), and checks the size that arrived. */
async function storeFile(store, localPath, name) {
  const client = new ftp.Client(CONNECT_TIMEOUT_MS);
  let connected = false;
  try {
    await client.connect(store.host, store.port);
    // Connected: from now on the store itself answers, and a slow one is waited for longer.
    connected = true;
    client.ftp.timeout = STORE_TIMEOUT_MS;
    await client.sendIgnoringError('OPTS UTF8 ON');
    await client.login(store.user, store.password);
    await client.useDefaultSettings();
    if (store.folder) await client.ensureDir(store.folder); // creates it when missing, then enters it
    await client.uploadFrom(localPath, name);
    const size = await client.size(name);
    const local = (await fsp.stat(localPath)).size;
    if (size !== local) throw new Error(`the store has ${size} bytes of ${name}, expected ${local}`);
    return storeUrl(store, name);
  } catch (err) {
    const timeout = /^Timeout/.test(err.message);
    const what =
      err instanceof ftp.FTPError
        ? `the store answered "${err.message}"`
        : timeout && !connected
          ? `${err.message}: no answer to the connection within ${CONNECT_TIMEOUT_MS / 1000} s (packets lost on the network path)`
          : timeout
            ? `${err.message}: connected, but the store did not answer within ${STORE_TIMEOUT_MS / 1000} s (a slow store)`
            : err.message;
    throw new Error(`file store ${store.host}:${store.port}: ${what}`);
  } finally {
    client.close();
  }
}

/** Parses an HLS playlist: its segments (name and seconds) and whether it is complete (VOD). */
function parsePlaylist(text) {
  const segments = [];
  let pending;
  for (const line of text.split(/\r?\n/)) {
    const m = /^#EXTINF:([\d.]+)/.exec(line);
    if (m) pending = Number(m[1]);
    else if (line && !line.startsWith('#') && pending !== undefined) {
      segments.push({ uri: line.trim(), seconds: pending });
      pending = undefined;
    }
  }
  return { segments, ended: /#EXT-X-ENDLIST/.test(text) };
}

/** Runs video/transcode.sh INPUT OUTPUT_DIR SEGMENT_SECONDS and checks the playlist it wrote. */
async function transcode(video, input, seconds) {
  const out = path.join(HLS_DIR, video.id);
  await fsp.rm(out, { recursive: true, force: true });
  await fsp.mkdir(out, { recursive: true });
  const started = Date.now();
  const r = await run('bash', [TRANSCODER, input, out, String(seconds)], TRANSCODE_TIMEOUT_MS);
  const tail = (r.stderr + r.stdout).trim().split('\n').slice(-6).join('\n');
  if (r.code !== 0) {
    throw Object.assign(new Error(r.killed ? `transcode.sh ran longer than ${TRANSCODE_TIMEOUT_MS / 1000} s and was stopped` : `transcode.sh failed with exit code ${r.code}`), { detail: tail });
  }
  let text;
  try {
    text = await fsp.readFile(path.join(out, 'index.m3u8'), 'utf8');
  } catch {
    const files = await fsp.readdir(out).catch(() => []);
    throw Object.assign(new Error(`transcode.sh finished, but there is no playlist at ${path.join(out, 'index.m3u8')} (the folder has ${files.length ? files.join(', ') : 'nothing'}); the service serves the stream from ${HLS_DIR}/<id>/`), { detail: tail });
  }
  const playlist = parsePlaylist(text);
  if (!playlist.segments.length) throw Object.assign(new Error('the playlist transcode.sh wrote lists no segments'), { detail: tail });
  const total = playlist.segments.reduce((s, x) => s + x.seconds, 0);
  return { playlist: `/hls/${video.id}/index.m3u8`, segments: playlist.segments.length, streamSeconds: Math.round(total * 1000) / 1000, transcodeMs: Date.now() - started };
}

/** Store, then transcode. Returns the HTTP answer for the upload. */
async function storeAndStream(video, config) {
  try {
    const stored = await storeFile(config.store, video.spool, video.storedName);
    update(video, { state: 'stored', stored, error: undefined });
    log(`${video.id} stored at ${stored}`);
  } catch (err) {
    const same = video.state === 'waiting-for-store' && video.error === err.message;
    update(video, { state: 'waiting-for-store', error: err.message, attempts: (video.attempts || 0) + 1 });
    // A retry that fails the same way again is not news: log the first failure and each change.
    if (!same) log(`${video.id} not stored (kept at ${video.spool}, ${RETRY_TEXT}): ${err.message}`);
    return {
      status: 503,
      retryAfter: Math.ceil(RETRY_MS / 1000),
      body: {
        error: `the file store did not take the upload: ${err.message}`,
        id: video.id,
        kept: true,
        retry: `the upload is kept on the web server and the service tries again every ${RETRY_MS / 1000} s, and at once when ${path.basename(CONFIG_FILE)} changes; GET /videos/${video.id} shows where it is`,
      },
    };
  }
  try {
    const hls = await transcode(video, video.spool, config.segmentSeconds);
    update(video, { state: 'ready', ...hls, segmentSeconds: config.segmentSeconds, error: undefined, detail: undefined });
    log(`${video.id} ready: ${hls.segments} segments, ${hls.streamSeconds} s, ${hls.playlist}`);
    return { status: 201, location: hls.playlist, body: publicView(video) };
  } catch (err) {
    update(video, { state: 'transcode-failed', error: err.message, detail: err.detail });
    log(`${video.id} transcoding failed: ${err.message}${err.detail ? `\n  ${err.detail.replace(/\n/g, '\n  ')}` : ''}`);
    return {
      status: 500,
      body: { error: `transcoding to HLS failed: ${err.message}`, detail: err.detail || '', id: video.id, stored: video.stored, note: 'the original is safe on the file store; fix the transcoder and upload again' },
    };
  } finally {
    if (video.state !== 'waiting-for-store') {
      await fsp.rm(video.spool, { force: true });
      update(video, { spool: undefined });
    }
  }
}

// Uploads the store did not take are retried in the background, with the settings of the moment.
// An attempt starts RETRY_MS after the one before it started (at once when that one took longer),
// and at once when config.json has changed since the last attempt read it: a fixed setting counts
// within a second, not after the next few failures with the old one.
const RETRY_TEXT = `retrying every ${RETRY_MS / 1000} s, and at once when ${path.basename(CONFIG_FILE)} changes`;
let retrying = false;
let nextRetry = 0;
let retriedWith;
function configText() {
  try {
    return fs.readFileSync(CONFIG_FILE, 'utf8');
  } catch {
    return '';
  }
}
async function retryWaiting(now = false) {
  if (retrying || !videos.some((v) => v.state === 'waiting-for-store')) return;
  const settings = configText();
  if (!now && Date.now() < nextRetry && settings === retriedWith) return;
  retrying = true;
  retriedWith = settings;
  nextRetry = Date.now() + RETRY_MS;
  try {
    for (const video of videos.filter((v) => v.state === 'waiting-for-store')) {
      if (!video.spool || !fs.existsSync(video.spool)) {
        update(video, { state: 'lost', error: 'the local copy disappeared before the store had it' });
        continue;
      }
      let config;
      try {
        config = readConfig();
      } catch (err) {
        log(`retry of ${video.id} postponed: ${err.message}`);
        break;
      }
      const r = await storeAndStream(video, config);
      if (r.status === 503) break; // the store is still down: try again later
    }
  } finally {
    retrying = false;
  }
}

// ---- HTTP --------------------------------------------------------------------------------------

function newId() {
  return `v${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}`;
}

function extensionOf(name) {
  const m = /\.([A-Za-z0-9]{1,5})$/.exec(name || '');
  return m ? m[1].toLowerCase() : 'video';
}

function send(res, r) {
  if (r.retryAfter) res.set('Retry-After', String(r.retryAfter));
  if (r.location) res.location(r.location);
  res.status(r.status).json(r.body);
}

function upload(req, res) {
  let config;
  try {
    config = readConfig();
  } catch (err) {
    log(`upload refused: ${err.message}`);
    return res.status(500).json({ error: err.message });
  }
  if (!req.is('multipart/form-data')) {
    return res.status(400).json({ error: 'send the video as multipart/form-data with a file field named "file", e.g. curl -F file=@clip.mp4 http://web.bob.example/upload' });
  }
  let bb;
  try {
    bb = busboy({ headers: req.headers, limits: { files: 1, fields: 20, fileSize: config.maxBytes } });
  } catch (err) {
    return res.status(400).json({ error: `malformed multipart request: ${err.message}` });
  }
  const id = newId();
  const seen = [];
  let file; // the part named "file", written to the spool
  let problem; // [status, message]
  let answered = false;
  const answer = async (r) => {
    if (answered) return;
    answered = true;
    if (file && (r.status >= 400 && r.status !== 503 && r.status !== 500)) await fsp.rm(file.path, { force: true });
    send(res, r);
  };

  bb.on('file', (field, stream, info) => {
    seen.push(`${field} (a file${info.filename ? ` named "${info.filename}"` : ''})`);
    if (field !== 'file' || file || problem) return stream.resume();
    if (!info.filename) {
      problem = [400, 'no selected file: the "file" part has an empty file name; send a file with a name (curl -F file=@clip.mp4)'];
      return stream.resume();
    }
    const dest = path.join(SPOOL_DIR, `${id}.${extensionOf(info.filename)}`);
    const out = fs.createWriteStream(dest);
    file = { name: path.basename(info.filename), path: dest, bytes: 0, truncated: false };
    stream.on('data', (chunk) => (file.bytes += chunk.length));
    stream.on('limit', () => (file.truncated = true));
    file.done = new Promise((resolve, reject) => {
      out.on('finish', resolve);
      out.on('error', reject);
      stream.on('error', reject);
    });
    stream.pipe(out);
  });
  bb.on('field', (name) => {
    seen.push(`${name} (a plain field)`);
    // busboy reports a part with an empty file name as a plain field, so both cases land here.
    if (name === 'file' && !file && !problem) problem = [400, 'no selected file: the "file" part has no file name (an empty file name, or a plain form value); send the file itself with its name (curl -F file=@clip.mp4)'];
  });
  bb.on('error', (err) => answer({ status: 400, body: { error: `malformed multipart request: ${err.message}` } }));
  req.on('aborted', () => {
    answered = true;
    if (file) fs.rm(file.path, { force: true }, () => {});
  });
  bb.on('close', async () => {
    try {
      if (file) await file.done;
      if (problem) return answer({ status: problem[0], body: { error: problem[1] } });
      if (!file) {
        return answer({ status: 400, body: { error: `no file part: send the video in a multipart field named "file" (got ${seen.length ? seen.join(', ') : 'no parts at all'})` } });
      }
      if (file.truncated) return answer({ status: 413, body: { error: `the file is larger than the limit of ${config.maxBytes / 1024 / 1024} MB` } });
      if (file.bytes === 0) return answer({ status: 400, body: { error: `"${file.name}" is empty (0 bytes)` } });
      const probe = await probeVideo(file.path);
      if (!probe.video) {
        log(`upload of "${file.name}" refused: not a video (${probe.why})`);
        return answer({ status: 415, body: { error: `"${file.name}" is not a video: ${probe.why}` } });
      }
      const ext = extensionOf(file.name);
      const video = {
        id,
        name: file.name,
        bytes: file.bytes,
        duration: probe.duration,
        codec: probe.codec,
        received: new Date().toISOString(),
        from: (req.socket.remoteAddress || '').replace(/^::ffff:/, ''),
        storedName: `${id}.${ext}`,
        spool: file.path,
        state: 'received',
      };
      videos.push(video);
      update(video, {});
      log(`${id} received "${file.name}" (${file.bytes} bytes, ${probe.duration} s) from ${video.from}`);
      const r = await storeAndStream(video, config);
      await answer(r);
      if (r.status !== 503) retryWaiting(true).catch(() => {}); // the store works: flush what waits
    } catch (err) {
      log(`${id} upload failed: ${err.stack || err.message}`);
      answer({ status: 500, body: { error: `the upload failed on the server: ${err.message}`, id } });
    }
  });
  req.pipe(bb);
}

// One sample clip (6 s of a test pattern with a tone), made once with ffmpeg.
let sampleMaking;
function makeSample() {
  sampleMaking ??= (async () => {
    if (fs.existsSync(SAMPLE_FILE)) return;
    const tmp = `${SAMPLE_FILE}.tmp.mp4`;
    const r = await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=6', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=6',
      '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', '-movflags', '+faststart', tmp], 60000);
    if (r.code !== 0) throw new Error(r.stderr.trim() || 'ffmpeg failed');
    await fsp.rename(tmp, SAMPLE_FILE);
  })().finally(() => (sampleMaking = undefined));
  return sampleMaking;
}

module.exports = function video(app) {
  app.post('/upload', upload);
  app.get('/videos', (req, res) => res.json({ videos: videos.map(publicView) }));
  app.get('/videos/:id', (req, res) => {
    const v = videos.find((x) => x.id === req.params.id);
    if (!v) return res.status(404).json({ error: `no upload with id ${req.params.id}` });
    res.json(publicView(v));
  });
  app.use('/hls', express.static(HLS_DIR, {
    index: false,
    dotfiles: 'deny',
    setHeaders(res, file) {
      if (file.endsWith('.m3u8')) res.set('Content-Type', 'application/vnd.apple.mpegurl').set('Cache-Control', 'no-cache');
      else if (file.endsWith('.ts')) res.set('Content-Type', 'video/mp2t');
    },
  }));
  app.get('/sample.mp4', async (req, res) => {
    try {
      await makeSample();
      res.type('video/mp4').sendFile(SAMPLE_FILE);
    } catch (err) {
      res.status(500).json({ error: `could not make the sample clip: ${err.message}` });
    }
  });
  // A cheap look every quarter second (one small file read): whether an attempt is due, or the settings changed.
  setInterval(() => retryWaiting().catch((err) => log(`retry failed: ${err.message}`)), 250).unref();
};

