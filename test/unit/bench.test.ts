import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { median, naiveStopScript, naiveUpScript, parseMemory, shq } from '../../bench/run.js';
import { planInstance } from '../../orchestrator/plan.js';
import { canonicalWorld } from '../../orchestrator/world.js';

const plan = planInstance(canonicalWorld, {
  instance: 'bench-naive',
  subnets: { home: '10.250.9.0/28', access: '10.250.9.16/28', backbone: '10.250.9.32/28', vpc: '10.250.9.48/28' },
  images: { alice: 'hurrynet/alice:x', router: 'hurrynet/router:x', dns: 'hurrynet/dns:x', web: 'hurrynet/web:x', ftp: 'hurrynet/ftp:x' },
});
const count = (text: string, re: RegExp) => text.split('\n').filter((l) => re.test(l)).length;

describe('bench: the naive baseline scripts', () => {
  const up = naiveUpScript(plan, '/tmp/env dir');

  it('applies the same plan one docker CLI call at a time', () => {
    expect(count(up, /^docker network create /)).toBe(plan.networks.length);
    expect(count(up, /^docker create /)).toBe(plan.containers.length);
    expect(count(up, /^docker network connect /)).toBe(plan.containers.reduce((n, c) => n + c.networks.length - 1, 0));
    expect(count(up, /^docker start /)).toBe(plan.containers.length);
    expect(count(up, /^wait_ready /)).toBe(plan.containers.length);
    for (const n of plan.networks) expect(up).toContain(`--subnet ${n.subnet} --gateway ${n.gateway}`);
    const alice = up.split('\n').find((l) => l.includes('--name hurrynet-bench-naive-alice'))!;
    expect(alice).toContain('--memory 268435456b');
    expect(alice).toContain('--cap-drop ALL');
    expect(alice).toContain('--label io.hurrynet.instance=bench-naive');
    expect(alice).toContain(`-e "HN_NODE=$(cat '/tmp/env dir/hurrynet-bench-naive-alice.HN_NODE')"`);
  });

  it('is valid bash', () => {
    execFileSync('bash', ['-n'], { input: up });
    execFileSync('bash', ['-n'], { input: naiveStopScript(plan) });
  });

  it('stops container by container, then network by network', () => {
    const stop = naiveStopScript(plan);
    expect(count(stop, /^docker rm -f /)).toBe(plan.containers.length);
    expect(count(stop, /^docker network rm /)).toBe(plan.networks.length);
  });
});

describe('bench: helpers', () => {
  it('quotes only what needs quoting', () => {
    expect(shq('hurrynet-bench-1-alice')).toBe('hurrynet-bench-1-alice');
    expect(shq("it's here")).toBe(`'it'\\''s here'`);
  });
  it('takes medians of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
  it('reads cgroup v1 and v2 memory as usage minus inactive file cache', () => {
    expect(parseMemory('v1\n10485760\ntotal_inactive_file 4194304\n')).toBe(6291456);
    expect(parseMemory('v2\n2000\ninactive_file 500\n')).toBe(1500);
    expect(() => parseMemory('v1\ncat: no such file\n')).toThrow(/cgroup/);
  });
});
