import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { lineChart, ticks } from '../../bench/chart.js';
import { formatReport, median, parseMemory, type BenchReport } from '../../bench/run.js';
import { naiveStopCommands, naiveUpCommands } from '../../bench/naive.js';
import { planInstance } from '../../orchestrator/runtime/plan.js';
import { canonicalWorld } from '../../orchestrator/world/world.js';

const plan = planInstance(canonicalWorld, {
  instance: 'bench-naive',
  subnets: { lan: '10.250.9.0/28', access: '10.250.9.16/28', backbone: '10.250.9.32/28', vpc: '10.250.9.48/28' },
  images: {
    alice: 'hurrynet/alice:x',
    router: 'hurrynet/router:x',
    bgp: 'hurrynet/bgp:x',
    dns: 'hurrynet/dns:x',
    web: 'hurrynet/web:x',
    ftp: 'hurrynet/ftp:x',
    mail: 'hurrynet/mail:x',
  },
});
const count = (lines: string[], re: RegExp) => lines.filter((l) => re.test(l)).length;

describe('bench: the naive baseline (zx, one docker CLI call at a time)', () => {
  const up = naiveUpCommands(plan);
  const lines = up.map((argv) => argv.join(' '));

  it('applies the same plan one docker CLI call at a time', () => {
    expect(count(lines, /^docker network create /)).toBe(plan.networks.length);
    expect(count(lines, /^docker create /)).toBe(plan.containers.length);
    expect(count(lines, /^docker network connect /)).toBe(
      plan.containers.reduce((n, c) => n + c.networks.length - 1, 0),
    );
    expect(count(lines, /^docker start /)).toBe(plan.containers.length);
    for (const n of plan.networks) expect(lines.join('\n')).toContain(`--subnet ${n.subnet} --gateway ${n.gateway}`);
    const alice = up.find((argv) => argv.includes('hurrynet-bench-naive-alice') && argv[1] === 'create') as string[];
    expect(alice.join(' ')).toContain('--memory 268435456b');
    expect(alice.join(' ')).toContain('--cap-drop ALL');
    expect(alice.join(' ')).toContain('--label io.hurrynet.instance=bench-naive');
    // Environment values go in whole as one argument each (zx quotes them), even across lines.
    const hosts = plan.containers.find((c) => c.node === 'alice')?.env.HN_HOSTS as string;
    expect(alice).toContain(`HN_HOSTS=${hosts}`);
  });

  it('stops container by container, then network by network', () => {
    const stop = naiveStopCommands(plan).map((argv) => argv.join(' '));
    expect(count(stop, /^docker rm -f /)).toBe(plan.containers.length);
    expect(count(stop, /^docker network rm /)).toBe(plan.networks.length);
  });
});

describe('bench: helpers', () => {
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

describe('bench: the report table', () => {
  const report: BenchReport = {
    date: '2024-01-01T00:00:00.000Z',
    machine: { cpus: 2, memGiB: 3.8, docker: '27.0.0' },
    options: { skipCold: true, worlds: 2, repeat: 1 },
    results: [
      {
        name: 'up (warm, to ready)',
        value: 1.5,
        unit: 's',
        baseline: 3,
        baselineName: 'naive CLI script',
        ratio: 0.5,
        target: 0.6,
        targetOn: 'ratio',
        ok: true,
      },
      { name: 'exec round trip (driver.exec)', value: 120, unit: 'ms', target: 100, targetOn: 'value', ok: false },
      { name: '2 worlds healthy', value: 2, unit: 'of 2', target: 2, targetOn: 'value', ok: true },
    ],
  };
  const lines = formatReport(report).split('\n');

  it('heads the table with the machine', () => {
    expect(lines[0]).toBe('hurrynet bench 2024-01-01T00:00:00.000Z: 2 CPUs, 3.8 GiB, Docker 27.0.0');
  });
  it('shows ratio, value and count targets and whether they were met', () => {
    const row = (name: string) => lines.find((l) => l.startsWith(name)) ?? '';
    expect(row('up (warm')).toMatch(/1\.50 s\s+3\.00 s \(naive CLI script\)\s+0\.50\s+ratio <= 0\.6\s+ok$/);
    expect(row('exec round')).toMatch(/120\.0 ms\s+<= 100\.0 ms\s+MISSED$/);
    expect(row('2 worlds healthy')).toMatch(/2 of 2\s+all 2\s+ok$/);
  });
});

describe('bench: the scaling charts (SVG)', () => {
  const svg = lineChart({
    title: 'Worlds <at once> & more',
    xLabel: 'worlds',
    yLabel: 'seconds',
    series: [
      {
        name: 'hurrynet up',
        points: [
          [4, 8.2],
          [1, 2.5],
          [2, 4.4],
        ],
      },
      {
        name: 'N x one up',
        points: [
          [1, 2.5],
          [4, 10],
        ],
        dashed: true,
      },
    ],
  });

  it('picks round axis steps that cover the data', () => {
    expect(ticks(10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(ticks(8.2)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(ticks(0.37)).toEqual([0, 0.1, 0.2, 0.3, 0.4]);
    expect(ticks(0)).toEqual([0, 1]);
  });
  it('draws each series in order of x, a dashed reference, a legend and escaped text', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('Worlds &lt;at once&gt; &amp; more');
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).toContain('stroke-dasharray="6 4"');
    // Points of the first series sorted by x: 1, 2, 4 from left to right.
    const xs = [...(svg.match(/<polyline[^>]*points="([^"]+)"/)?.[1] ?? '').matchAll(/([\d.]+),/g)].map((m) =>
      Number(m[1]),
    );
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    expect(svg.match(/<circle /g)).toHaveLength(3);
    expect(svg).toContain('>hurrynet up</text>');
  });
  it('is well-formed XML with nothing external', () => {
    const r = spawnSync('xmllint', ['--noout', '-'], { input: svg, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(svg).not.toMatch(/<script|href=/);
  });
  it('refuses a chart without points', () => {
    expect(() => lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [] })).toThrow(/no points/);
  });
});
