import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../orchestrator/errors.js';
import {
  defaultPool,
  dockerOptions,
  parseEndpoint,
  parseEngines,
  readContext,
} from '../../orchestrator/runtime/endpoint.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function configWithContext(name: string, host: string, tls = false): string {
  const dir = mkdtempSync(join(tmpdir(), 'hn-docker-config-'));
  dirs.push(dir);
  const id = createHash('sha256').update(name).digest('hex');
  mkdirSync(join(dir, 'contexts', 'meta', id), { recursive: true });
  writeFileSync(
    join(dir, 'contexts', 'meta', id, 'meta.json'),
    JSON.stringify({ Name: name, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }),
  );
  if (tls) {
    const t = join(dir, 'contexts', 'tls', id, 'docker');
    mkdirSync(t, { recursive: true });
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(t, f), `${f} of ${name}`);
  }
  return dir;
}

describe('engine endpoints', () => {
  it('reads unix sockets, tcp and context names', () => {
    expect(parseEndpoint('unix:///run/e2/docker.sock')).toEqual({ kind: 'unix', socketPath: '/run/e2/docker.sock' });
    expect(parseEndpoint('/var/run/docker.sock')).toEqual({ kind: 'unix', socketPath: '/var/run/docker.sock' });
    expect(parseEndpoint('tcp://lab2.school.example:2376')).toEqual({
      kind: 'tcp',
      host: 'lab2.school.example',
      port: 2376,
    });
    expect(parseEndpoint('tcp://[::1]:2375')).toEqual({ kind: 'tcp', host: '::1', port: 2375 });
    expect(parseEndpoint('lab-server-2')).toEqual({ kind: 'context', name: 'lab-server-2' });
  });

  it('explains what it cannot use', () => {
    expect(() => parseEndpoint('unix://relative.sock')).toThrow(/absolute path/);
    expect(() => parseEndpoint('tcp://host')).toThrow(/tcp:\/\/HOST:PORT/);
    expect(() => parseEndpoint('tcp://host:99999')).toThrow(/tcp:\/\/HOST:PORT/);
    expect(() => parseEndpoint('ssh://me@host')).toThrow(/forward the socket/);
    expect(() => parseEndpoint('no spaces please')).toThrow(UsageError);
  });

  it('takes a list with pools, refusing repeats and shared pools', () => {
    const e = parseEngines('unix:///var/run/docker.sock, unix:///run/e2.sock=10.249.0.0/16,lab-3');
    expect(e.map((x) => x.name)).toEqual(['unix:///var/run/docker.sock', 'unix:///run/e2.sock', 'lab-3']);
    expect(e[1]?.subnetPool).toBe('10.249.0.0/16');
    expect(e[0]?.subnetPool).toBeUndefined();
    expect(() => parseEngines(' , ')).toThrow(/at least one/);
    expect(() => parseEngines('/a.sock,/a.sock')).toThrow(/twice/);
    expect(() => parseEngines('/a.sock=10.300.0.0/16')).toThrow(/IPv4 prefix/);
    expect(() => parseEngines('/a.sock=10.0.0.0/28')).toThrow(/IPv4 prefix/);
    // The first engine keeps the default pool: the second may not take it by hand.
    expect(() => parseEngines('/a.sock,/b.sock=10.250.0.0/16')).toThrow(/10\.250\.0\.0\/16/);
    // Nor a part of it, nor two hand-written pools of which one holds the other.
    expect(() => parseEngines('/a.sock,/b.sock=10.250.16.0/20')).toThrow(/two engines/);
    expect(() => parseEngines('/a.sock=10.240.0.0/12,/b.sock=10.241.0.0/16')).toThrow(/two engines/);
  });

  it('gives each later engine a pool of its own', () => {
    expect(defaultPool(0, {})).toBeUndefined();
    expect(defaultPool(0, { HURRYNET_SUBNET_POOL: '10.200.0.0/16' })).toBe('10.200.0.0/16');
    expect(defaultPool(1, {})).toBe('10.249.0.0/16');
    expect(defaultPool(2, {})).toBe('10.248.0.0/16');
  });

  it('needs TLS for an engine on another machine, and reads it from DOCKER_CERT_PATH', () => {
    const [remote] = parseEngines('tcp://lab2.school.example:2376');
    expect(() => dockerOptions(remote!, {})).toThrow(/needs TLS/);
    const [local] = parseEngines('tcp://127.0.0.1:2375');
    expect(dockerOptions(local!, {})).toEqual({ host: '127.0.0.1', port: 2375, protocol: 'http' });
    const certs = configWithContext('unused', 'unix:///x', true);
    const id = createHash('sha256').update('unused').digest('hex');
    const o = dockerOptions(remote!, { DOCKER_CERT_PATH: join(certs, 'contexts', 'tls', id, 'docker') });
    expect(o).toMatchObject({ host: 'lab2.school.example', port: 2376, protocol: 'https' });
    expect(String(o.ca)).toBe('ca.pem of unused');
  });

  it('follows a docker context to its endpoint and its own TLS files', () => {
    const dir = configWithContext('lab-server-2', 'tcp://lab2.school.example:2376', true);
    expect(readContext('lab-server-2', dir).host).toBe('tcp://lab2.school.example:2376');
    const [ctx] = parseEngines('lab-server-2');
    const o = dockerOptions(ctx!, { DOCKER_CONFIG: dir });
    expect(o).toMatchObject({ host: 'lab2.school.example', protocol: 'https' });
    expect(String(o.key)).toBe('key.pem of lab-server-2');
    const sock = configWithContext('local-2', 'unix:///run/e2.sock');
    expect(dockerOptions(parseEngines('local-2')[0]!, { DOCKER_CONFIG: sock })).toEqual({ socketPath: '/run/e2.sock' });
    expect(() => readContext('nope', dir)).toThrow(/no docker context named nope/);
    expect(readContext('default', dir).host).toBe('unix:///var/run/docker.sock');
  });
});
