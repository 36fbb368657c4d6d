'use strict';
// Lab 07's stand-in services on web, in one node process started by the lab's fault: the admin
// port (an SSH-like banner), the internal service and the monitoring agent (each a TCP banner and
// a UDP echo), and HTTPS on 443 when nothing serves it yet. Every answer carries the per-start
// token, and every TCP session an id that web logs with the source address, so a fake answer shows.
// Usage: node services.js STATE_DIR LOG ADMIN_PORT PRIVATE_PORT AGENT_PORT WITH_HTTPS(0|1)
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const dgram = require('dgram');
const https = require('https');
const [dir, logPath, ...ports] = process.argv.slice(2);
const [adminPort, privatePort, agentPort, withHttps] = ports.map(Number);
const token = fs.readFileSync(dir + '/token', 'utf8').trim();
const log = fs.createWriteStream(logPath, { flags: 'a' });
const peer = (a) => String(a || '').replace(/^::ffff:/, '');
const note = (service, port, client, path) =>
  log.write(JSON.stringify({ time: new Date().toISOString(), service, port, client, path }) + '\n');
function tcp(port, service, banner) {
  net
    .createServer((s) => {
      s.on('error', () => {});
      // A session id of its own for every connection, logged with the source address that arrived.
      const session = crypto.randomBytes(4).toString('hex');
      log.write(
        JSON.stringify({ time: new Date().toISOString(), service, port, client: peer(s.remoteAddress), session }) +
          '\n',
      );
      s.end(banner + ' session ' + session + '\r\n');
    })
    .listen(port, '0.0.0.0');
}
function udp(port, service, banner) {
  const sock = dgram.createSocket('udp4');
  sock.on('message', (msg, from) => {
    note(service, port, from.address);
    sock.send(banner + '\n', from.port, from.address);
  });
  sock.bind(port, '0.0.0.0');
}
tcp(adminPort, 'admin', 'SSH-2.0-BobAdmin_1.0 ' + token);
tcp(privatePort, 'internal', 'BOB-INTERNAL ' + token + ' (for the VPC only)');
udp(privatePort, 'internal', 'BOB-INTERNAL ' + token + ' (for the VPC only)');
tcp(agentPort, 'agent', 'BOB-AGENT ' + token + ' (for the VPC only)');
udp(agentPort, 'agent', 'BOB-AGENT ' + token + ' (for the VPC only)');
if (withHttps) {
  https
    .createServer({ key: fs.readFileSync(dir + '/key.pem'), cert: fs.readFileSync(dir + '/cert.pem') }, (req, res) => {
      const client = peer(req.socket.remoteAddress);
      note('https', 443, client, req.url);
      res.setHeader('Content-Type', 'text/plain');
      res.setHeader('Server', 'bob-web');
      res.end("Hello from Bob's web server over HTTPS (web.bob.example).\nYour request arrived from " + client + '.\n');
    })
    .listen(443, '0.0.0.0');
}
