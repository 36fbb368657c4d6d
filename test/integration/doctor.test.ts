// hurrynet doctor on this machine, through the real CLI: a lab can run here, so it exits 0; with
// DOCKER_HOST at a socket that does not exist, the engine fails with a fix, and up shows the
// doctor's engine findings under its error.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../orchestrator/doctor/findings.js';
import { cli } from './helpers.js';

interface Report {
  ok: boolean;
  findings: Finding[];
}

const dir = mkdtempSync(join(tmpdir(), 'hurrynet-doctor-'));
const nowhere = `unix://${join(dir, 'no-such-docker.sock')}`;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectShape(report: Report): void {
  expect(typeof report.ok).toBe('boolean');
  expect(report.findings.length).toBeGreaterThan(5);
  for (const f of report.findings) {
    expect(Object.keys(f).sort()).toEqual(['detail', 'fix', 'id', 'status', 'title']);
    expect(['ok', 'warn', 'fail', 'unknown']).toContain(f.status);
    expect(f.detail.length).toBeGreaterThan(0);
    // A sentence: starts with a capital, ends with a full stop.
    expect(f.fix).toMatch(/^[A-Z].*\.$/s);
  }
}

describe('hurrynet doctor', () => {
  it('finds that a lab can run on this machine', async () => {
    const r = await cli(['doctor', '--json']);
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as Report;
    expectShape(report);
    const failed = report.findings.filter((f) => f.status === 'fail');
    expect(failed).toEqual([]);
    expect(r.code).toBe(0);
    expect(report.ok).toBe(true);
    const ids = report.findings.map((f) => f.id);
    for (const id of ['engine', 'arch', 'disk', 'cgroup', 'iptables', 'kernel.ftp-helper', 'seal', 'subnets', 'images'])
      expect(ids).toContain(id);
    expect(report.findings.find((f) => f.id === 'engine')?.status).toBe('ok');
    expect(report.findings.find((f) => f.id === 'images')?.status).toBe('ok'); // global setup built them
  });

  it('prints a readable report too', async () => {
    const r = await cli(['doctor']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^OK\s+Docker engine$/m);
    expect(r.stdout).toMatch(/a lab can run here/);
  });

  it('fails with a clear fix when no engine answers', async () => {
    const r = await cli(['doctor', '--json'], { env: { DOCKER_HOST: nowhere } });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as Report;
    expectShape(report);
    expect(report.ok).toBe(false);
    const engine = report.findings.find((f) => f.id === 'engine');
    expect(engine?.status).toBe('fail');
    expect(engine?.detail).toMatch(/ENOENT/);
    expect(engine?.fix).toMatch(/Start the engine.*DOCKER_HOST/);
    expect(report.findings.find((f) => f.id === 'docker-socket')?.status).toBe('fail');
  });

  it("shows the engine findings under up's error", async () => {
    const r = await cli(['up', '--instance', 't-doctor-noengine'], { env: { DOCKER_HOST: nowhere } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/hurrynet: error: cannot reach the Docker engine/);
    expect(r.stderr).toMatch(
      /hurrynet doctor \(engine checks\):\nFAIL\s+Docker socket\n.*no socket at .*no-such-docker\.sock/,
    );
    expect(r.stderr).toMatch(/fix: Start the engine/);
  });
});
