// Lab 04 on a real engine: untouched it fails, a genuine capture from another world (with answers
// that match it) fails the router's cross-check, and the reference passes for two seeds.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/engine.js';
import { varsFor } from '../../orchestrator/lab.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder } from './lab-harness.js';
import { driver, sh } from './helpers.js';

const I = 't-lab04';
const ALL = ['capture', 'witnessed', 'served', 'answer-port', 'answer-client-isn', 'answer-server-isn', 'answer-mss', 'answer-segments', 'answer-bytes'];

afterAll(async () => {
  await stop(driver, I);
});

let saved: { pcap: Buffer; answers: string } | undefined;

describe('lab 04: TCP', () => {
  it('fails untouched: no capture, no request at Bob, no answers', async () => {
    const run = await start('4', I, 'seed-a');
    const route = await sh(I, 'alice', 'ip route show default');
    expect(route.stdout).toContain(`advmss ${Number(run.vars.advmss)}`);
    const report = await grade(run);
    expect(report.passed).toBe(false);
    expect(failedIds(report), explain(report)).toEqual(ALL);
    expect(report.results.find((r) => r.id === 'capture')?.reason).toMatch(/no \/root\/handshake.pcap/);
  });

  it('passes the reference solution (seed-a), with segments as large as the MSS allows', async () => {
    const run = await start('tcp', I, 'seed-a');
    await apply(run, solutionDir(run));
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(true);
    expect(report.score).toBe(report.maxScore);
    expect(report.maxScore).toBe(12);
    process.stderr.write(`[lab-04] seed-a: graded a passing world in ${report.ms} ms\n`);
    const answers = (await sh(I, 'alice', 'cat /root/answers.yaml')).stdout;
    expect(answers).toContain(`mss: ${Number(run.vars.advmss)}`);
    // Full segments carry MSS - 12 bytes (the timestamp option), so the count follows from the size.
    const bytes = Number(/server_bytes: (\d+)/.exec(answers)?.[1]);
    const segments = Number(/data_segments: (\d+)/.exec(answers)?.[1]);
    expect(bytes).toBeGreaterThan(Number(run.vars.bytes));
    expect(segments).toBe(Math.ceil(bytes / (Number(run.vars.advmss) - 12)));
    const pcap = (await sh(I, 'alice', 'base64 -w0 /root/handshake.pcap')).stdout;
    saved = { pcap: Buffer.from(pcap, 'base64'), answers };
  });

  it('fails a genuine capture taken in another world, handed in with a real fetch and matching answers', async () => {
    expect(saved).toBeDefined();
    const run = await start('4', I, 'seed-a');
    const dir = submissionFolder({
      'alice.sh': 'curl -sS -o /dev/null http://web.bob.example/bytes/' + String(run.vars.bytes),
      'answers.yaml': saved?.answers ?? '',
    });
    mkdirSync(join(dir, 'alice', 'root'), { recursive: true });
    writeFileSync(join(dir, 'alice', 'root', 'handshake.pcap'), saved?.pcap ?? Buffer.alloc(0));
    await apply(run, dir);
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(false);
    // The capture itself is well formed and its answers agree with it: only the router can tell.
    expect(report.results.find((r) => r.id === 'capture')?.passed, explain(report)).toBe(true);
    expect(report.results.find((r) => r.id === 'answer-client-isn')?.passed, explain(report)).toBe(true);
    expect(failedIds(report), explain(report)).toContain('witnessed');
    const witnessed = report.results.find((r) => r.id === 'witnessed');
    expect(witnessed?.evidence.map((e) => e.output).join('\n')).toContain('(not shown');
  });

  it('passes the reference solution for another learner (seed-b), whose answers do not transfer', async () => {
    const run = await start('tcp', I, 'seed-b');
    expect(run.vars.advmss).not.toBe(varsFor(run.lab, 'seed-a').advmss);
    await apply(run, solutionDir(run));
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(true);
    expect(report.score).toBe(report.maxScore);
    // seed-a's answers, copied into this world next to this learner's own genuine capture.
    await apply(run, submissionFolder({ 'answers.yaml': saved?.answers ?? '' }));
    const copied = await grade(run);
    expect(copied.passed, explain(copied)).toBe(false);
    expect(failedIds(copied), explain(copied)).toEqual(expect.arrayContaining(['answer-client-isn', 'answer-server-isn', 'answer-mss', 'answer-segments']));
  });
});
