import { describe, expect, it } from 'vitest';
import { answerCheck, normalizeAnswer } from '../../checks/answers.js';
import { parseDig } from '../../checks/probes.js';
import { excerpt, failedRequired, renderJson, renderJunit, renderTerminal, xmlEscape } from '../../checks/report.js';
import { runCheck, runChecks, type Clock } from '../../checks/runner.js';
import {
  fail,
  graderFailure,
  inconclusive,
  pass,
  type Answers,
  type Check,
  type CheckContext,
  type Report,
} from '../../checks/types.js';

/** A clock that advances only when the runner sleeps: retries without waiting. */
function fakeClock(): Clock & { t: number } {
  const c = { t: 0, now: () => c.t, sleep: async (ms: number) => void (c.t += ms) };
  return c;
}

function ctx(answers: Answers = { ok: false, error: 'none' }): CheckContext {
  return {
    instance: 'x',
    timeScale: 1,
    fresh: async () => {
      throw new Error('no fresh machines in unit tests');
    },
    vars: {},
    answers: async () => answers,
    probe: async () => {
      throw new Error('no probes in unit tests');
    },
    inspect: async () => {
      throw new Error('no probes in unit tests');
    },
    witness: async () => undefined,
    node: () => {
      throw new Error('no nodes in unit tests');
    },
  };
}

const check = (over: Partial<Check>): Check => ({
  id: 'c',
  title: 'a check',
  points: 2,
  hint: ['look here', 'use curl -v', 'add the route'],
  run: async () => pass('ok'),
  ...over,
});

describe('runner', () => {
  it('retries a failing check until it passes', async () => {
    let calls = 0;
    const r = await runCheck(
      check({ run: async () => (++calls < 3 ? fail('not yet') : pass('now')) }),
      ctx(),
      fakeClock(),
    );
    expect(r.passed).toBe(true);
    expect(r.attempts).toBe(3);
    expect(r.earned).toBe(2);
    expect(r.hints).toBeUndefined();
  });
  it('gives up at the deadline and keeps the last reason and the hint', async () => {
    const clock = fakeClock();
    const r = await runCheck(check({ deadlineMs: 1000, run: async () => fail('still broken') }), ctx(), clock);
    expect(r.passed).toBe(false);
    expect(r.attempts).toBe(5); // t = 0, 250, 500, 750, 1000; the next would pass the deadline
    expect(r.reason).toBe('still broken');
    expect(r.hints).toEqual(['look here']);
    expect(clock.t).toBeLessThanOrEqual(1000);
  });
  it('turns a throwing check into an inconclusive result, tried at least twice, never a failure', async () => {
    let calls = 0;
    const r = await runCheck(
      check({
        deadlineMs: 0,
        run: async () => {
          calls++;
          throw new Error('boom');
        },
      }),
      ctx(),
      fakeClock(),
    );
    expect(r.passed).toBe(false);
    expect(r.status).toBe('inconclusive');
    expect(r.earned).toBe(0);
    expect(r.hints).toBeUndefined();
    expect(calls).toBe(2);
    expect(r.reason).toMatch(/grader could not observe this \(the check could not run: boom\); it is not your mistake/);
  });
  it("treats a verdict that rests on the grader's own timeout as inconclusive, pass or fail", async () => {
    const timedOut = graderFailure('probe@alice', 'curl x', 'command timed out after 5000 ms: bash -c curl x');
    for (const verdict of [
      fail('no answer', timedOut),
      pass('port closed', timedOut),
      inconclusive('sidecar did not start'),
    ]) {
      const r = await runCheck(check({ deadlineMs: 1000, run: async () => verdict }), ctx(), fakeClock());
      expect(r.status).toBe('inconclusive');
      expect(r.earned).toBe(0);
    }
  });
  it('retries an inconclusive attempt and grades the conclusive one that follows', async () => {
    let calls = 0;
    const timedOut = graderFailure('probe@alice', 'ping', 'command timed out');
    const r = await runCheck(
      check({ deadlineMs: 1000, run: async () => (++calls === 1 ? fail('x', timedOut) : fail('really broken')) }),
      ctx(),
      fakeClock(),
    );
    expect(r.status).toBe('failed');
    expect(r.reason).toBe('really broken');
    expect(r.hints).toEqual(['look here']);
  });
  it('shows as many hint levels as asked for, none at level 0, and none on a pass', async () => {
    const failing = check({ deadlineMs: 0, run: async () => fail('broken') });
    expect((await runCheck(failing, ctx(), fakeClock(), 2)).hints).toEqual(['look here', 'use curl -v']);
    expect((await runCheck(failing, ctx(), fakeClock(), 3)).hints).toHaveLength(3);
    expect((await runCheck(failing, ctx(), fakeClock(), 0)).hints).toBeUndefined();
    const report = await runChecks(
      [failing, check({})],
      ctx(),
      { lab: '01', title: 't', instance: 'i', seed: 's', hintLevel: 2 },
      fakeClock(),
    );
    expect(report.hintLevel).toBe(2);
    expect(report.results.map((r) => r.hints?.length)).toEqual([2, undefined]);
  });
  it('keeps a conclusive failure seen before the last attempt turned inconclusive', async () => {
    let calls = 0;
    const r = await runCheck(
      check({ deadlineMs: 600, run: async () => (++calls === 1 ? fail('broken') : inconclusive('busy')) }),
      ctx(),
      fakeClock(),
    );
    expect(r.status).toBe('failed');
    expect(r.reason).toBe('broken');
  });
  it('stretches the deadline by the time scale of a busy machine', async () => {
    const clock = fakeClock();
    const slow = { ...ctx(), timeScale: 3 };
    const r = await runCheck(check({ deadlineMs: 1000, run: async () => fail('still broken') }), slow, clock);
    expect(r.attempts).toBe(13); // every 250 ms from 0 to 3000
    expect(clock.t).toBeLessThanOrEqual(3000);
  });
  it('a report lists inconclusive checks and is not passed, but has no failure', async () => {
    const report = await runChecks(
      [check({ id: 'a' }), check({ id: 'b', deadlineMs: 0, run: async () => inconclusive('x') })],
      ctx(),
      { lab: '01', title: 't', instance: 'x', seed: 's' },
      fakeClock(),
    );
    expect(report.passed).toBe(false);
    expect(report.inconclusive).toEqual(['b']);
    expect(failedRequired(report)).toEqual([]);
    const text = renderTerminal(report);
    expect(text).toMatch(/\?\?\?\?/);
    expect(text).toMatch(/could not observe one check \(b\).*not your mistake/s);
    expect(renderJunit(report)).toMatch(
      /<error message="the grader could not observe this \(x\)[^"]*" type="inconclusive">/,
    );
  });
  it('scores: optional misses add no points but do not fail the lab', async () => {
    const report = await runChecks(
      [
        check({ id: 'a', points: 3 }),
        check({ id: 'b', points: 1, required: false, deadlineMs: 0, run: async () => fail('no') }),
      ],
      ctx(),
      { lab: '01', title: 't', instance: 'x', seed: 's' },
      fakeClock(),
    );
    expect(report.score).toBe(3);
    expect(report.maxScore).toBe(4);
    expect(report.passed).toBe(true);
  });

  it('traces a failed check once, after its last attempt, and never a passed or inconclusive one', async () => {
    const traced: string[] = [];
    const c: CheckContext = {
      ...ctx(),
      trace: async (probe) => (
        await probe(),
        traced.push('t'),
        { where: 'every node', command: 'trace', exitCode: 0, output: 'SYN reached edge and never left' }
      ),
    };
    let probes = 0;
    const failing = check({ deadlineMs: 1000, run: async () => fail('no answer'), trace: async () => void probes++ });
    const r = await runCheck(failing, c, fakeClock());
    expect(r.status).toBe('failed');
    expect(r.attempts).toBeGreaterThan(1);
    expect([traced.length, probes]).toEqual([1, 1]);
    expect(r.evidence.map((e) => e.output)).toContain('SYN reached edge and never left');
    await runCheck(check({ trace: async () => void probes++ }), c, fakeClock());
    await runCheck(
      check({ deadlineMs: 0, run: async () => inconclusive('busy'), trace: async () => void probes++ }),
      c,
      fakeClock(),
    );
    expect(traced.length).toBe(1);
  });

  it('traces every failed check of a run under one capture, their probes one after another', async () => {
    let captures = 0;
    const sent: string[] = [];
    const c: CheckContext = {
      ...ctx(),
      trace: async (probe) => (
        captures++,
        await probe(),
        { where: 'every node', command: 'trace', exitCode: 0, output: `lost at dns (${sent.join(', ')})` }
      ),
    };
    const failing = (id: string) =>
      check({ id, deadlineMs: 1000, run: async () => fail('no answer'), trace: async () => void sent.push(id) });
    const report = await runChecks(
      [failing('ping'), check({ id: 'ok' }), failing('web')],
      c,
      { lab: '05', title: 't', instance: 'i', seed: 's' },
      fakeClock(),
    );
    expect(captures).toBe(1);
    expect(sent).toEqual(['ping', 'web']);
    const outputs = (id: string) => report.results.find((r) => r.id === id)?.evidence.map((e) => e.output);
    expect(outputs('ping')).toContain('lost at dns (ping, web)');
    expect(outputs('web')).toContain('lost at dns (ping, web)');
    expect(outputs('ok')).not.toContain('lost at dns (ping, web)');
  });
});

describe('answers', () => {
  it('normalizes case, spacing and MAC separators', () => {
    expect(normalizeAnswer('  02-42-AC-11-00-02 ')).toBe('02:42:ac:11:00:02');
    expect(normalizeAnswer('0242.ac11.0002')).toBe('02:42:ac:11:00:02');
    expect(normalizeAnswer(201)).toBe('201');
  });
  const spec = {
    id: 'ans',
    title: 'answer',
    points: 1,
    key: 'ip',
    hint: ['look', 'tool', 'fix'] as const,
    expected: async () => ({ value: '192.168.1.150', evidence: [] }),
  };
  it('passes a matching answer and fails a copied one', async () => {
    const good = await answerCheck(spec).run(
      ctx({ ok: true, values: { ip: '192.168.1.150' }, raw: 'ip: 192.168.1.150' }),
    );
    expect(good.passed).toBe(true);
    const copied = await answerCheck(spec).run(ctx({ ok: true, values: { ip: '192.168.1.120' }, raw: '' }));
    expect(copied.passed).toBe(false);
    expect(copied.reason).toMatch(/^your ip \("192.168.1.120"\) is not /);
    expect(copied.reason).not.toMatch(/192.168.1.120" is what/);
  });
  it('explains a missing key and a missing or broken file', async () => {
    expect((await answerCheck(spec).run(ctx({ ok: true, values: {}, raw: '' }))).reason).toMatch(/misses "ip"/);
    expect(
      (await answerCheck(spec).run(ctx({ ok: false, error: 'answers.yaml is not valid YAML: x' }))).reason,
    ).toMatch(/not valid YAML/);
  });
});

describe('dig output', () => {
  it('reads status, server and answers', () => {
    const out = `;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1\n\n;; ANSWER SECTION:\nweb.bob.example.\t287\tIN\tA\t198.51.100.80\n\n;; SERVER: 192.168.1.1#53(192.168.1.1) (UDP)\n`;
    expect(parseDig(out)).toEqual({
      status: 'NOERROR',
      server: '192.168.1.1',
      answers: [{ name: 'web.bob.example.', ttl: 287, type: 'A', value: '198.51.100.80' }],
    });
    expect(parseDig(';; connection timed out; no servers could be reached').status).toBe('TIMEOUT');
  });
});

const sample: Report = {
  lab: '01',
  title: 'Client & server <HTTP>',
  instance: 'x',
  seed: 's',
  inconclusive: [],
  score: 2,
  maxScore: 3,
  passed: false,
  ms: 1234,
  startedAt: '2026-01-01T00:00:00.000Z',
  results: [
    {
      id: 'a',
      title: 'ok one',
      points: 2,
      earned: 2,
      required: true,
      passed: true,
      status: 'passed',
      reason: 'fine',
      evidence: [],
      attempts: 1,
      ms: 10,
    },
    {
      id: 'b',
      title: 'broken "one"',
      points: 1,
      earned: 0,
      required: true,
      passed: false,
      status: 'failed',
      reason: 'got <nothing> & more',
      hints: ['look at the reply', 'use curl'],
      evidence: [{ where: 'probe@alice', command: 'curl x', exitCode: 7, output: 'refused\u0007' }],
      attempts: 5,
      ms: 3000,
    },
  ],
};

describe('reporters', () => {
  it('prints a table with evidence and hints for failures', () => {
    const text = renderTerminal(sample);
    expect(text).toMatch(/PASS\s+2\/2\s+ok one/);
    expect(text).toMatch(/FAIL\s+0\/1\s+broken "one"/);
    expect(text).toMatch(/why: {2}got <nothing> & more/);
    expect(text).toMatch(/\[probe@alice\] curl x {2}→ exit 7/);
    expect(text).toMatch(/hint 1\/3 \(where to look\): look at the reply/);
    expect(text).toMatch(/hint 2\/3 \(which tool or file\): use curl/);
    expect(text).toMatch(/Score 2\/3: some required checks fail/);
  });
  it('says which hint level the report showed and how to see the next one', () => {
    const text = renderTerminal({ ...sample, hintLevel: 2 }, undefined, {
      hintCommand: (n) => `npm run check 1 -- --hint ${n}`,
    });
    expect(text).toMatch(/Hints shown: level 2 of 3\. For the fix: npm run check 1 -- --hint 3/);
    expect(renderTerminal({ ...sample, hintLevel: 3 })).toMatch(/Hints shown: level 3 of 3 \(the fix\)/);
    expect(renderTerminal({ ...sample, hintLevel: 0, results: [] })).not.toMatch(/Hints/);
    expect(renderJunit(sample)).toMatch(/hint 2\/3 \(which tool or file\): use curl/);
  });
  it("shortens a program's output to its first line and the lines up to the cause, not its first four", () => {
    // Lab 11's client: an FTP dialogue whose cause is near its end.
    const dialogue = [
      '< 220 (vsFTPd 3.0.3)',
      '> USER anonymous',
      '< 331 Please specify the password.',
      '> PASS guest',
      '< 230 Login successful.',
      ...Array.from({ length: 30 }, (_, i) => `> NOOP ${i}\n< 200 NOOP ok.`).flatMap((l) => l.split('\n')),
      '> CWD /uploads',
      '< 550 Failed to change directory.',
      '> QUIT',
      '< 221 Goodbye.',
    ].join('\n');
    const text = excerpt(dialogue);
    const lines = text.split('\n');
    expect(lines[0]).toBe('< 220 (vsFTPd 3.0.3)');
    expect(text).toContain('< 550 Failed to change directory.');
    expect(text).toContain('> CWD /uploads');
    expect(text).toMatch(/… \(\d+ lines\)/);
    expect(text).toContain('> QUIT\n… (1 line more)');
    expect(lines.filter((l) => !l.startsWith('…')).length).toBeLessThanOrEqual(6);
    // Without an error line: the first line and the last lines.
    const plain = excerpt(Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n'));
    expect(plain.split('\n')).toEqual([
      'line 0',
      '… (14 lines)',
      'line 15',
      'line 16',
      'line 17',
      'line 18',
      'line 19',
    ]);
    // Short output is shown whole.
    expect(excerpt('a\nb\nc')).toBe('a\nb\nc');
  });
  it('with verbose, shows all evidence, of passing checks too, and says when it shortened', () => {
    const long = Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n');
    const report = {
      ...sample,
      results: sample.results.map((r) => ({
        ...r,
        evidence: [{ where: 'probe@alice', command: 'python3 client.py', exitCode: r.passed ? 0 : 1, output: long }],
      })),
    };
    const short = renderTerminal(report);
    expect(short).not.toContain('line 7');
    expect(short).toMatch(/--verbose shows all of it/);
    const full = renderTerminal(report, undefined, { verbose: true });
    expect(full).toContain('line 7');
    expect(full).not.toMatch(/--verbose shows all/);
    const passing = report.results.find((r) => r.passed);
    expect(passing?.evidence.length, 'the sample has evidence on a pass').toBeGreaterThan(0);
    expect(full.split('\n').filter((l) => l.includes('line 7')).length).toBe(
      report.results.filter((r) => r.evidence.length).length,
    );
  });
  it('writes JSON that round-trips', () => {
    expect(JSON.parse(renderJson(sample))).toEqual(sample);
  });
  it('writes well-formed JUnit XML with escaped text', () => {
    const xml = renderJunit(sample);
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>/);
    expect(xml).toMatch(/<testsuite name="hurrynet.lab01" tests="2" failures="1" errors="0" skipped="0"/);
    expect(xml).toContain('<failure message="got &lt;nothing&gt; &amp; more" type="required">');
    expect(xml).not.toContain('\u0007');
    expect((xml.match(/<testcase /g) ?? []).length).toBe(2);
    expect(xmlEscape(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
  });
});
