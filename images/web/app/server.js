'use strict';
// Bob's web server in the lab world: a small express app with a JSON resource (notes) that
// supports GET/POST/PUT/DELETE, a "who am I" endpoint that shows which source address arrived
// (after NAT), and an access log that graders read from this side of the network.
const fs = require('fs');
const path = require('path');
const express = require('express');

const PORT = Number(process.env.WEB_PORT || 80);
const DATA_DIR = process.env.WEB_DATA_DIR || '/srv/web/data';
const LOG_DIR = process.env.WEB_LOG_DIR || '/var/log/web';
const NOTES_FILE = path.join(DATA_DIR, 'notes.json');

fs.mkdirSync(DATA_DIR, { recursive: true });
fs.mkdirSync(LOG_DIR, { recursive: true });
const accessLog = fs.createWriteStream(path.join(LOG_DIR, 'access.log'), { flags: 'a' });

const seedNotes = [
  { id: 1, title: 'hello', body: 'Alice asked, Bob answered.' },
  { id: 2, title: 'layers', body: 'HTTP rides on TCP, which rides on IP.' },
];

function loadNotes() {
  try {
    return JSON.parse(fs.readFileSync(NOTES_FILE, 'utf8'));
  } catch {
    return { nextId: seedNotes.length + 1, items: seedNotes };
  }
}
let notes = loadNotes();
// A lab that sets where Bob's ids continue edits the file and sends SIGHUP: read it again, no
// restart (a Node start is the slowest part of a lab's set-up). The line tells the lab it is done.
process.on('SIGHUP', () => {
  notes = loadNotes();
  console.log(`notes reloaded: next id ${notes.nextId}`);
});
function saveNotes() {
  // Write then rename so a grader never reads half a file.
  const tmp = NOTES_FILE + '.tmp';
  fs.writeFileSync(tmp, JSON.stringify(notes, null, 2));
  fs.renameSync(tmp, NOTES_FILE);
}
saveNotes();

const app = express();
app.disable('x-powered-by');
app.set('etag', false);

// One JSON line per request: the source address as this server saw it is the point.
app.use((req, res, next) => {
  const started = Date.now();
  res.on('finish', () => {
    accessLog.write(JSON.stringify({
      time: new Date().toISOString(),
      client: (req.socket.remoteAddress || '').replace(/^::ffff:/, ''),
      port: req.socket.remotePort,
      method: req.method,
      path: req.originalUrl,
      status: res.statusCode,
      ms: Date.now() - started,
      agent: req.get('user-agent') || '',
    }) + '\n');
  });
  res.set('Server', 'bob-web');
  next();
});
app.use(express.json({ limit: '64kb' }));

app.get('/', (req, res) => {
  const client = (req.socket.remoteAddress || '').replace(/^::ffff:/, '');
  res.type('text/plain').send(
    `Hello from Bob's web server (web.bob.example).\n` +
    `Your request arrived from ${client}.\n` +
    `Try: GET /whoami, or the notes resource at /api/notes (GET, POST, PUT, DELETE).\n`);
});

app.get('/healthz', (req, res) => res.json({ ok: true }));

app.get('/whoami', (req, res) => {
  res.json({
    clientAddress: (req.socket.remoteAddress || '').replace(/^::ffff:/, ''),
    clientPort: req.socket.remotePort,
    serverAddress: (req.socket.localAddress || '').replace(/^::ffff:/, ''),
    method: req.method,
    headers: req.headers,
  });
});

// n bytes of plain text (lines of a repeating pattern), for the TCP and MTU labs: a response of a
// known size that spans many segments. Streamed in 64 KiB writes, with a sane upper bound.
const BYTES_MAX = 20 * 1024 * 1024;
const BYTES_LINE = Buffer.from('Bob sends Alice bytes; TCP cuts them into segments, IP carries them.\n');
const BYTES_CHUNK = 64 * 1024;
const bytesPattern = Buffer.alloc(BYTES_CHUNK);
for (let i = 0; i < BYTES_CHUNK; i++) bytesPattern[i] = BYTES_LINE[i % BYTES_LINE.length];
app.get('/bytes/:n', (req, res) => {
  if (!/^\d{1,9}$/.test(req.params.n) || Number(req.params.n) > BYTES_MAX) {
    return res.status(400).json({ error: `n must be a whole number of bytes from 0 to ${BYTES_MAX}` });
  }
  const total = Number(req.params.n);
  res.status(200).type('text/plain').set('Content-Length', String(total));
  let sent = 0;
  const more = () => {
    while (sent < total) {
      // Every write continues the pattern where the previous one stopped.
      const offset = sent % BYTES_LINE.length;
      const size = Math.min(BYTES_CHUNK - BYTES_LINE.length, total - sent);
      sent += size;
      if (sent >= total) return res.end(bytesPattern.subarray(offset, offset + size));
      if (!res.write(bytesPattern.subarray(offset, offset + size))) return res.once('drain', more);
    }
    res.end();
  };
  more();
});

function validNote(body) {
  return body && typeof body.title === 'string' && body.title.trim() !== '' &&
    (body.body === undefined || typeof body.body === 'string');
}
function findNote(id) {
  return notes.items.find((n) => String(n.id) === String(id));
}

app.get('/api/notes', (req, res) => res.json(notes.items));
app.get('/api/notes/:id', (req, res) => {
  const note = findNote(req.params.id);
  if (!note) return res.status(404).json({ error: `no note with id ${req.params.id}` });
  res.json(note);
});
app.post('/api/notes', (req, res) => {
  if (!validNote(req.body)) {
    return res.status(400).json({ error: 'send JSON like {"title": "...", "body": "..."} with Content-Type: application/json' });
  }
  const note = { id: notes.nextId++, title: req.body.title, body: req.body.body || '' };
  notes.items.push(note);
  saveNotes();
  res.status(201).location(`/api/notes/${note.id}`).json(note);
});
app.put('/api/notes/:id', (req, res) => {
  if (!validNote(req.body)) {
    return res.status(400).json({ error: 'send JSON like {"title": "...", "body": "..."} with Content-Type: application/json' });
  }
  const note = findNote(req.params.id);
  if (!note) return res.status(404).json({ error: `no note with id ${req.params.id}` });
  note.title = req.body.title;
  note.body = req.body.body || '';
  saveNotes();
  res.json(note);
});
app.delete('/api/notes/:id', (req, res) => {
  const before = notes.items.length;
  notes.items = notes.items.filter((n) => String(n.id) !== String(req.params.id));
  if (notes.items.length === before) return res.status(404).json({ error: `no note with id ${req.params.id}` });
  saveNotes();
  res.status(204).end();
});
// A method the notes resource does not support is 405 with the methods it does support in Allow
// (a 404 would say the note is not there). OPTIONS asks for that list. HEAD is served by the GETs.
function allowOnly(allow) {
  return (req, res) => {
    res.set('Allow', allow);
    if (req.method === 'OPTIONS') return res.status(204).end();
    res.status(405).json({ error: `${req.method} is not allowed on ${req.path}: use ${allow}` });
  };
}
app.all('/api/notes', allowOnly('GET, HEAD, POST'));
app.all('/api/notes/:id', allowOnly('GET, HEAD, PUT, DELETE'));

require('./https')(app); // HTTPS on 443 once /etc/hurrynet/tls has a certificate (lab 10)
require('./video')(app); // Bob's video service: upload -> FTP store -> HLS stream (lab 12)
app.use((req, res) => res.status(404).json({ error: `nothing at ${req.method} ${req.path}` }));
// express calls a four-argument handler for errors, such as malformed JSON.
app.use((err, req, res, next) => { // eslint-disable-line no-unused-vars
  const status = err.status || 500;
  res.status(status).json({ error: status === 400 ? 'malformed JSON body' : 'server error' });
});

app.listen(PORT, '0.0.0.0', () => console.log(`bob-web listening on ${PORT}`));
