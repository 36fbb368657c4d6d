'use strict';
// HTTPS for Bob's web server (lab 10): serves the same express app on port 443 once a certificate
// is installed in /etc/hurrynet/tls:
//
//   server.crt    the server's own certificate (PEM)
//   server.key    its private key (PEM)
//   chain.crt     optional: the intermediate CA certificate(s) sent after server.crt
//   options.json  optional: {"minVersion": "TLSv1.2" | "TLSv1.3", "maxVersion": ...}
//
// Nothing listens on 443 while server.crt or server.key is missing. After changing the files, make
// the server read them again without a restart: pkill -HUP -x node (or kill -HUP <its pid>)
// Every (re)load is written to /var/log/web/tls.log, including why a load failed (the previous
// certificate then stays in use).
const fs = require('fs');
const path = require('path');
const https = require('https');
const crypto = require('crypto');
const tls = require('tls');

const TLS_DIR = process.env.WEB_TLS_DIR || '/etc/hurrynet/tls';
const TLS_PORT = Number(process.env.WEB_TLS_PORT || 443);
const LOG_FILE = path.join(process.env.WEB_LOG_DIR || '/var/log/web', 'tls.log');
const VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

function log(line) {
  try {
    fs.appendFileSync(LOG_FILE, `${new Date().toISOString()} ${line}\n`);
  } catch {
    /* the log is a courtesy */
  }
}

function readIf(name) {
  const file = path.join(TLS_DIR, name);
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
}

/** The server's TLS settings from the files, or a reason why there are none. */
function load() {
  const cert = readIf('server.crt');
  const key = readIf('server.key');
  if (!cert || !key) return { off: `no ${!cert ? 'server.crt' : 'server.key'} in ${TLS_DIR}` };
  const chain = readIf('chain.crt') || '';
  let options = {};
  const raw = readIf('options.json');
  if (raw && raw.trim()) options = JSON.parse(raw); // a syntax error is reported by the caller
  for (const k of ['minVersion', 'maxVersion']) {
    if (options[k] !== undefined && !VERSIONS.includes(options[k])) throw new Error(`options.json: ${k} must be one of ${VERSIONS.join(', ')}`);
  }
  const settings = {
    cert: `${cert.trim()}\n${chain.trim()}\n`,
    key,
    minVersion: options.minVersion || 'TLSv1.2',
    maxVersion: options.maxVersion || 'TLSv1.3',
  };
  tls.createSecureContext(settings); // throws on a key that does not match, or an unreadable PEM
  const leaf = new crypto.X509Certificate(cert);
  const sent = (chain.match(/-----BEGIN CERTIFICATE-----/g) || []).length;
  settings.summary = `subject "${leaf.subject.replace(/\n/g, ', ')}", names "${leaf.subjectAltName || 'none'}", ` +
    `issuer "${leaf.issuer.replace(/\n/g, ', ')}", serial ${leaf.serialNumber}, valid ${leaf.validFrom} to ${leaf.validTo}; ` +
    `chain.crt adds ${sent} certificate(s); TLS ${settings.minVersion} to ${settings.maxVersion}`;
  return settings;
}

module.exports = function enableHttps(app) {
  let server;
  function apply(why) {
    let settings;
    try {
      settings = load();
    } catch (err) {
      log(`${why}: could not load the files in ${TLS_DIR}: ${err.message}${server ? ' (the previous certificate stays in use)' : ''}`);
      return;
    }
    if (settings.off) {
      log(`${why}: HTTPS is off: ${settings.off}${server ? ' (the previous certificate stays in use)' : ''}`);
      return;
    }
    const { summary, ...options } = settings;
    if (!server) {
      server = https.createServer(options, app);
      server.on('error', (err) => log(`HTTPS server error: ${err.message}`));
      server.listen(TLS_PORT, '0.0.0.0', () => log(`${why}: HTTPS listening on ${TLS_PORT}: ${summary}`));
    } else {
      server.setSecureContext(options);
      log(`${why}: reloaded: ${summary}`);
    }
  }
  apply('start');
  process.on('SIGHUP', () => apply('SIGHUP'));
};
