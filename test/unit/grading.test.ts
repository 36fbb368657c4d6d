import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { lockIsStale, LOCK_STALE_MS, takeLock } from '../../orchestrator/runtime/standby.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labVersion, settleClashes } from '../../orchestrator/grading/grade.js';
import { RemovalQueue } from '../../orchestrator/grading/removals.js';
import type { Lab } from '../../orchestrator/labs/lab.js';
import { loadScale, MAX_SCALE, scaleFrom } from '../../orchestrator/runtime/load.js';
import { canonicalWorld, freshSeat } from '../../orchestrator/world/world.js';
import { percentile, summarizeLab } from '../../bench/flake.js';
import type { CheckStatus, Report } from '../../checks/types.js';

describe('the seat of the grader’s fresh machine on a link', () => {
  it('takes a spare address outside the DHCP range, with the link’s upstream router', () => {
    expect(freshSeat(canonicalWorld, 'lan')).toEqual({
      cidr: '192.168.1.254/24',
      gateway: '192.168.1.1',
      nameserver: '192.168.1.1',
    });
    expect(freshSeat(canonicalWorld, 'access')).toEqual({
      cidr: '203.0.113.254/24',
      gateway: '203.0.113.1',
      nameserver: '198.51.100.53',
    });
    expect(freshSeat(canonicalWorld, 'backbone').gateway).toBe('198.51.100.1');
    expect(freshSeat(canonicalWorld, 'vpc')).toEqual({
      cidr: '10.0.1.254/24',
      gateway: '10.0.1.1',
      nameserver: '198.51.100.53',
    });
  });
  it('never takes an address a node uses, and accepts another gateway', () => {
    const world = structuredClone(canonicalWorld);
    world.nodes[0]?.interfaces[0]?.addresses.push('192.168.1.254/24');
    expect(freshSeat(world, 'lan', '192.168.1.1').cidr).toBe('192.168.1.253/24');
  });
  it('refuses an unknown link with the list of links', () => {
    expect(() => freshSeat(canonicalWorld, 'wifi')).toThrow(/no link "wifi".*lan, access, backbone, vpc/);
  });
});

describe('time scale of a busy machine', () => {
  it('is 1 on a quiet machine and grows with the load per core, up to a bound', () => {
    expect(loadScale(0.5, 2)).toBe(1);
    expect(loadScale(6, 2)).toBe(3);
    expect(loadScale(40, 2)).toBe(MAX_SCALE);
    expect(loadScale(Number.NaN, 2)).toBe(1);
  });
  it('takes the slower of a trivial exec and the load average', () => {
    expect(scaleFrom(50, 0, 2)).toBe(1);
    expect(scaleFrom(250, 0, 2)).toBe(2.5);
    expect(scaleFrom(50, 8, 2)).toBe(4);
  });
});

describe('flake benchmark summary', () => {
  const report = (passed: boolean, statuses: Record<string, CheckStatus>, ms = 100): Report => ({
    lab: '05',
    title: 't',
    instance: 'i',
    seed: 's',
    score: 0,
    maxScore: 0,
    passed,
    inconclusive: Object.entries(statuses)
      .filter(([, s]) => s === 'inconclusive')
      .map(([id]) => id),
    results: Object.entries(statuses).map(([id, status]) => ({
      id,
      title: id,
      points: 1,
      earned: 0,
      required: true,
      passed: status === 'passed',
      status,
      reason: '',
      evidence: [],
      attempts: 1,
      ms: 1,
    })),
    ms,
    startedAt: '',
  });
  it('counts flips, unstable checks and inconclusive checks, with duration percentiles', () => {
    const untouched = [
      report(false, { web: 'failed', ping: 'failed' }, 100),
      report(false, { web: 'failed', ping: 'inconclusive' }, 300),
    ];
    const solved = [
      report(true, { web: 'passed', ping: 'passed' }, 200),
      report(false, { web: 'failed', ping: 'passed' }, 900),
    ];
    const s = summarizeLab('05', untouched, solved);
    expect(s.flips).toEqual({ untouched: 1, solved: 1 });
    expect(s.unstableChecks).toEqual(['untouched:ping', 'solved:web']);
    expect(s.inconclusive).toBe(1);
    expect(s.checkMs).toEqual({ p50: 200, p95: 900 });
  });
  it('takes nearest-rank percentiles', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
    expect(percentile([], 95)).toBe(0);
  });
});

describe('two submissions claiming one learner id', () => {
  const sub = (name: string, id: string): { name: string; id: string; invalid?: string } => ({ name, id });
  it('keeps the id for the folder named after it and refuses the other under its own folder name', () => {
    const out = settleClashes([sub('ada', 'ada'), sub('copy', 'ada'), sub('bo', 'bo')]);
    expect(out.map((s) => s.id)).toEqual(['ada', 'copy', 'bo']);
    expect(out[0]?.invalid).toBeUndefined();
    expect(out[1]?.invalid).toMatch(/learner id "ada" is claimed by the folders ada, copy; it belongs to folder ada/);
    expect(out[2]?.invalid).toBeUndefined();
  });
  it('refuses every claimant when no folder is named after the id, with unique report names', () => {
    const out = settleClashes([sub('x', 'ada'), sub('y', 'ada'), sub('z', 'x')]);
    expect(new Set(out.map((s) => s.id)).size).toBe(3);
    expect(out[0]?.id).toBe('x-2');
    expect(out[1]?.id).toBe('y');
    expect(out[0]?.invalid).toMatch(/claimed by the folders x, y; rename the folders/);
    expect(out[2]?.invalid).toBeUndefined();
  });
});

describe('the lab version behind --resume', () => {
  it('changes when the checks, the lab kit or the images change, not only the lab folder', async () => {
    const root = mkdtempSync(join(tmpdir(), 'hn-version-'));
    for (const d of ['labs/05-x', 'checks', 'labs/kit', 'orchestrator/labs', 'orchestrator/world'])
      mkdirSync(join(root, d), { recursive: true });
    writeFileSync(join(root, 'labs/05-x/lab.ts'), 'a');
    writeFileSync(join(root, 'checks/probes.ts'), 'p');
    const lab = { dir: join(root, 'labs/05-x') } as Lab;
    const images = {
      base: 'b:1',
      roles: { alice: 'a:1', router: 'r:1', bgp: 'g:1', dns: 'd:1', web: 'w:1', ftp: 'f:1', mail: 'm:1' },
    };
    const v1 = labVersion(lab, root, images);
    writeFileSync(join(root, 'checks/probes.ts'), 'p2');
    const v2 = labVersion(lab, root, images);
    writeFileSync(join(root, 'labs/kit/index.ts'), 'k');
    const v3 = labVersion(lab, root, images);
    const v4 = labVersion(lab, root, { ...images, roles: { ...images.roles, web: 'w:2' } });
    expect(new Set([v1, v2, v3, v4]).size).toBe(4);
    expect(labVersion(lab, root, images)).toBe(v3);
  });
});

describe('the standby lock', () => {
  const fresh = () => join(mkdtempSync(join(tmpdir(), 'hn-lock-')), 'standby.lock');
  it('is taken once: a second taker is refused while the first holds it', () => {
    const lock = fresh();
    expect(takeLock(lock)).toBe(true);
    expect(readFileSync(lock, 'utf8')).toMatch(new RegExp(`^${process.pid} \\d+$`));
    expect(takeLock(lock)).toBe(false);
  });
  it('an empty lock file (created, not yet written) is fresh, not stale', () => {
    const lock = fresh();
    writeFileSync(lock, '');
    expect(lockIsStale(lock)).toBe(false);
    expect(takeLock(lock)).toBe(false);
  });
  it('takes over a lock whose holder is gone or that is too old', () => {
    const old = fresh();
    writeFileSync(old, `${process.pid} ${Date.now() - LOCK_STALE_MS - 1}`);
    expect(takeLock(old)).toBe(true);
    const orphan = fresh();
    writeFileSync(orphan, `2147483646 ${Date.now()}`);
    expect(lockIsStale(orphan)).toBe(true);
    expect(takeLock(orphan)).toBe(true);
  });
});

describe('removing finished worlds behind the batch', () => {
  const deferred = () => {
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    return { promise, resolve, reject };
  };

  it('removes one world at a time, in order, and returns at once', async () => {
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof deferred>>();
    const q = new RemovalQueue((i) => {
      started.push(i);
      const g = deferred();
      gates.set(i, g);
      return g.promise;
    }, 5);
    q.add('a');
    q.add('b');
    expect(q.pending).toBe(2);
    await new Promise((r) => setTimeout(r, 0));
    expect(started).toEqual(['a']);
    gates.get('a')?.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(started).toEqual(['a', 'b']);
    gates.get('b')?.resolve();
    expect(await q.drain()).toEqual([]);
    expect(q.pending).toBe(0);
  });

  it('makes a worker wait while as many worlds as its limit wait for removal', async () => {
    const g = deferred();
    const q = new RemovalQueue(() => g.promise, 2);
    q.add('a');
    q.add('b');
    let roomy = false;
    const room = q.room().then(() => (roomy = true));
    await new Promise((r) => setTimeout(r, 0));
    expect(roomy).toBe(false);
    g.resolve();
    await room;
    expect(roomy).toBe(true);
  });

  it('tries a failed removal once more at the end and reports what is still left', async () => {
    const calls: string[] = [];
    const q = new RemovalQueue(async (i) => {
      calls.push(i);
      if (i === 'stuck' || (i === 'flaky' && calls.filter((c) => c === i).length === 1))
        throw new Error(`cannot remove ${i}`);
    });
    q.add('flaky');
    q.add('stuck');
    q.add('fine');
    expect(await q.drain()).toEqual([{ instance: 'stuck', error: 'cannot remove stuck' }]);
    expect(calls).toEqual(['flaky', 'stuck', 'fine', 'flaky', 'stuck']);
  });
});
