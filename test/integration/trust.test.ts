// The grader's own footing on a real engine: a fresh machine on a link sees the network as a new
// laptop would, whatever the learner did to alice; the lab's routers answer every traceroute
// probe right after a ping; what the grader could not observe is inconclusive, never a failure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stop, up } from '../../orchestrator/runtime/engine.js';
import { findLab } from '../../orchestrator/labs/lab.js';
import { dockerContext } from '../../orchestrator/labs/labrun.js';
import { LABEL } from '../../orchestrator/runtime/plan.js';
import { runCheck } from '../../checks/runner.js';
import { http } from '../../checks/probes.js';
import { fail, pass } from '../../checks/types.js';
import { parseTraceroute } from '../../labs/05-routing/lab.js';
import { Driver } from '../../orchestrator/runtime/driver.js';
import { driver, sh } from './helpers.js';

const I = 't-trust';

beforeAll(async () => {
  await up(driver, { instance: I, replace: true });
}, 180_000);

afterAll(async () => {
  await stop(driver, I);
});

async function context() {
  const lab = await findLab('1');
  return dockerContext(driver, I, lab, {});
}

describe("the grader's fresh machine on a link", () => {
  it('reaches Bob through the home NAT while alice herself is cut off, and is removed afterwards', async () => {
    await sh(I, 'alice', 'ip route del default');
    const ctx = await context();
    try {
      const fresh = await ctx.fresh('lan');
      expect(fresh.where).toBe('fresh@lan');
      const seen = await http(fresh, { url: 'http://198.51.100.80/whoami' });
      expect(seen.status, seen.evidence.output).toBe(200);
      expect(seen.body).toContain('203.0.113.5');
      const own = await fresh.run('ip -4 -o addr show; ip route; cat /etc/resolv.conf');
      expect(own.output).toMatch(/inet 192\.168\.1\.254\/24/);
      expect(own.output).toContain('default via 192.168.1.1');
      expect(own.output).toContain('nameserver 192.168.1.1');
      const resolved = await fresh.run('dig +short web.bob.example');
      expect(resolved.output.trim()).toBe('198.51.100.80');
      const fromAlice = await http(await ctx.probe('alice'), { url: 'http://198.51.100.80/whoami', timeoutSeconds: 2 });
      expect(fromAlice.status).toBe(0);
    } finally {
      await ctx.close();
      await sh(I, 'alice', 'ip route replace default via 192.168.1.1');
    }
    const probes = (await driver.listContainers(Driver.projectLabels({ [LABEL.instance]: I }))).filter(
      (c) => c.labels[LABEL.kind] === 'probe',
    );
    expect(probes.map((c) => c.name)).toEqual([]);
  });
});

describe('ICMP rate limits', () => {
  it('every hop answers a traceroute sent right after a ping, again and again', async () => {
    const ctx = await context();
    try {
      const probe = await ctx.probe('alice');
      for (let i = 0; i < 3; i++) {
        const e = await probe.run(
          'ping -n -c 3 -i 0.2 -W 1 198.51.100.80 >/dev/null; traceroute -n -q 3 -w 1 -m 3 198.51.100.80',
          20000,
        );
        const hops = parseTraceroute(e.output);
        expect(
          hops.map((h) => h.addresses),
          e.output,
        ).toEqual([['192.168.1.1'], ['203.0.113.1'], ['198.51.100.80']]);
        expect(e.output, e.output).not.toMatch(/\*/);
      }
    } finally {
      await ctx.close();
    }
  });
});

describe('inconclusive observations', () => {
  it("a probe command that hits the grader's own time limit is inconclusive, not the learner's failure", async () => {
    const ctx = await context();
    try {
      const r = await runCheck(
        {
          id: 'slow',
          title: 'a probe slower than its limit',
          points: 1,
          hint: ['look', 'tool', 'fix'] as const,
          deadlineMs: 500,
          async run(c) {
            const e = await (await c.probe('alice')).run('sleep 5', 300);
            return e.exitCode === 0 ? pass('done', e) : fail('nothing came back', e);
          },
        },
        ctx,
      );
      expect(r.status).toBe('inconclusive');
      expect(r.earned).toBe(0);
      expect(r.reason).toMatch(/could not observe this \(nothing came back\); it is not your mistake/);
      expect(r.evidence[0]?.graderError).toMatch(/timed out/);
    } finally {
      await ctx.close();
    }
  });
  it('a check whose probe cannot start is inconclusive', async () => {
    const ctx = await context();
    try {
      const r = await runCheck(
        {
          id: 'gone',
          title: 'a probe on a node that does not exist',
          points: 1,
          hint: ['look', 'tool', 'fix'] as const,
          deadlineMs: 0,
          run: async (c) => pass('x', await (await c.probe('nobody')).run('true')),
        },
        ctx,
      );
      expect(r.status).toBe('inconclusive');
    } finally {
      await ctx.close();
    }
  });
});
