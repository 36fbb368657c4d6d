// Bob's live streamer (lab 09). Started on the web node by the lab; plain Node.js, no packages.
//
//   node streamer.js PORT FRAMES PACE_MS LATE_RATE LOG
//
// UDP: any datagram to PORT starts a stream back to its sender: FRAMES numbered datagrams, one
// every PACE_MS. Now and then (LATE_RATE) a frame is sent just after its successor, the way
// datagrams of one stream overtake each other on a busy internet. A second request from the same
// address and port while its stream is running is ignored.
// TCP: every connection to PORT gets the same FRAMES numbered lines at the same pace, then the
// server closes it. Each stream is one JSON line in LOG.
'use strict';
const dgram = require('dgram');
const net = require('net');
const fs = require('fs');

const [port, frames, paceMs, lateRate, logPath] = [
  Number(process.argv[2]),
  Number(process.argv[3]),
  Number(process.argv[4]),
  Number(process.argv[5]),
  process.argv[6],
];

function log(entry) {
  fs.appendFileSync(logPath, JSON.stringify({ t: new Date().toISOString(), ...entry }) + '\n');
}

let nextId = 1000 + Math.floor(Math.random() * 8000);
const streamId = () => (nextId = nextId >= 9999 ? 1000 : nextId + 1);
const line = (n, id, ms) => `frame ${n} of ${frames} stream ${id} t=${ms}ms\n`;

/** The order frames are sent in: 1..N, with some neighbours swapped. */
function sendOrder() {
  const order = Array.from({ length: frames }, (_, i) => i + 1);
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
  const id = streamId();
  const order = sendOrder();
  const started = Date.now();
  let k = 0;
  let sent = 0;
  const timer = setInterval(() => {
    const n = order[k++];
    udp.send(line(n, id, Date.now() - started), from.port, from.address, (err) => {
      if (!err) sent++;
    });
    if (k >= order.length) {
      clearInterval(timer);
      setTimeout(() => {
        running.delete(client);
        log({ proto: 'udp', client, stream: id, frames, sent, late: order.filter((n, i) => n < i + 1).length, ms: Date.now() - started });
      }, 50);
    }
  }, paceMs);
});
udp.bind(port);

const tcp = net.createServer((sock) => {
  const client = `${sock.remoteAddress}:${sock.remotePort}`;
  const id = streamId();
  const started = Date.now();
  let n = 0;
  sock.setNoDelay(true);
  sock.on('error', () => {});
  const timer = setInterval(() => {
    if (sock.destroyed) return clearInterval(timer);
    n++;
    sock.write(line(n, id, Date.now() - started));
    if (n >= frames) {
      clearInterval(timer);
      sock.end();
    }
  }, paceMs);
  sock.on('close', (hadError) => {
    clearInterval(timer);
    log({ proto: 'tcp', client, stream: id, frames, written: n, complete: n >= frames && !hadError, ms: Date.now() - started });
  });
});
tcp.listen(port);
