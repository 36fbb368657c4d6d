// Bob's live streamer (lab 09), copied onto the web node at /srv/stream/streamer.js and started by
// the lab's faults; plain Node.js, no packages.
//
//   node streamer.js PORT FRAMES SPREAD PACE_MS LATE_RATE LOG
//
// Every stream gets an id of its own (8 random consonants, so that no YAML reader ever takes it for
// a number) and a length of its own, FRAMES plus or minus up to SPREAD frames, and every frame says
// both: "frame 17 of 312 stream kqzdmtbw t=170ms".
// So the numbers a learner reports belong to one run of her own world, and to no other.
// UDP: any datagram to PORT starts a stream back to its sender: one numbered datagram every
// PACE_MS. Now and then (LATE_RATE) a frame is sent just after its successor, the way datagrams of
// one stream overtake each other on a busy internet. A second request from the same address and
// port while its stream is running is ignored.
// TCP: every connection to PORT gets a stream of its own, one line per frame at the same pace,
// then the server closes it. Each stream is one JSON line in LOG (Bob's own record of what he sent).
'use strict';
const crypto = require('crypto');
const dgram = require('dgram');
const net = require('net');
const fs = require('fs');

const [port, frames, spread, paceMs, lateRate, logPath] = [
  Number(process.argv[2]),
  Number(process.argv[3]),
  Number(process.argv[4]),
  Number(process.argv[5]),
  Number(process.argv[6]),
  process.argv[7],
];

function log(entry) {
  fs.appendFileSync(logPath, JSON.stringify({ t: new Date().toISOString(), ...entry }) + '\n');
}

/** The letters of stream ids (the grader's witness.ts, in the lab's folder, matches the same ones). */
const ID_LETTERS = 'bcdfghjkmnpqrstvwxz';

/** A new stream: its id and its length. */
function newStream() {
  let id = '';
  for (let i = 0; i < 8; i++) id += ID_LETTERS[crypto.randomInt(ID_LETTERS.length)];
  return { id, total: frames + crypto.randomInt(-spread, spread + 1) };
}
const line = (n, s, ms) => `frame ${n} of ${s.total} stream ${s.id} t=${ms}ms\n`;

/** The order frames are sent in: 1..N, with some neighbours swapped. */
function sendOrder(total) {
  const order = Array.from({ length: total }, (_, i) => i + 1);
  for (let i = 0; i + 1 < order.length; i++) {
    if (Math.random() < lateRate) {
      [order[i], order[i + 1]] = [order[i + 1], order[i]];
      i++;
    }
  }
  return order;
}

const udp = dgram.createSocket('udp4');
const running = new Set();
udp.on('message', (_msg, from) => {
  const client = `${from.address}:${from.port}`;
  if (running.has(client)) return;
  running.add(client);
  const s = newStream();
  const order = sendOrder(s.total);
  const started = Date.now();
  let k = 0;
  let sent = 0;
  const timer = setInterval(() => {
    const n = order[k++];
    udp.send(line(n, s, Date.now() - started), from.port, from.address, (err) => {
      if (!err) sent++;
    });
    if (k >= order.length) {
      clearInterval(timer);
      setTimeout(() => {
        running.delete(client);
        log({
          proto: 'udp',
          client,
          stream: s.id,
          frames: s.total,
          sent,
          late: order.filter((n, i) => n < i + 1).length,
          ms: Date.now() - started,
        });
      }, 50);
    }
  }, paceMs);
});
udp.bind(port);

const tcp = net.createServer((sock) => {
  const client = `${sock.remoteAddress}:${sock.remotePort}`;
  const s = newStream();
  const started = Date.now();
  let n = 0;
  sock.setNoDelay(true);
  sock.on('error', () => {});
  const timer = setInterval(() => {
    if (sock.destroyed) return clearInterval(timer);
    n++;
    sock.write(line(n, s, Date.now() - started));
    if (n >= s.total) {
      clearInterval(timer);
      sock.end();
    }
  }, paceMs);
  sock.on('close', (hadError) => {
    clearInterval(timer);
    log({
      proto: 'tcp',
      client,
      stream: s.id,
      frames: s.total,
      written: n,
      complete: n >= s.total && !hadError,
      ms: Date.now() - started,
    });
  });
});
tcp.listen(port);
