import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  classStats,
  genericTitle,
  learnerJunit,
  renderClassHtml,
  renderClassTerminal,
  renderCsv,
  renderLearnerHtml,
} from '../../checks/class-report.js';
import {
  autoJobs,
  mergeResults,
  shard,
  type ClassResults,
  type LearnerResult,
} from '../../orchestrator/grading/grade.js';
import { projectRoot } from '../../orchestrator/runtime/paths.js';

function learner(id: string, score: number, over: Partial<LearnerResult> = {}): LearnerResult {
  return {
    id,
    folder: `/x/${id}`,
    seed: id,
    status: 'graded',
    score,
    maxScore: 4,
    passed: score === 4,
    key: 'k',
    checks: [
      {
        id: 'a',
        title: `note "${id}" exists`,
        points: 2,
        earned: score >= 2 ? 2 : 0,
        required: true,
        passed: score >= 2,
        status: score >= 2 ? 'passed' : 'failed',
        reason: 'r',
        evidence: [],
        attempts: 1,
        ms: 5,
      },
      {
        id: 'b',
        title: 'answer',
        points: 2,
        earned: score === 4 ? 2 : 0,
        required: true,
        passed: score === 4,
        status: score === 4 ? 'passed' : 'failed',
        reason: 'r <x>',
        hints: ['h'],
        evidence: [{ where: 'alice', command: 'cat', exitCode: 1, output: 'no & such' }],
        attempts: 2,
        ms: 5,
      },
    ],
    durations: { startMs: 1, applyMs: 1, checkMs: 1, totalMs: 3 },
    gradedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

const results: ClassResults = {
  lab: '01',
  title: 'T',
  labVersion: 'v',
  generatedAt: '2026-01-01T00:00:00.000Z',
  learners: [
    learner('ada', 4),
    learner('bob', 2),
    learner('cy', 0, { status: 'invalid', error: 'web.sh, "bad"', checks: [] }),
  ],
};

describe('class statistics', () => {
  it('counts, averages, bands scores and pass rates per check', () => {
    const st = classStats(results);
    expect(st).toMatchObject({ learners: 3, graded: 2, invalid: 1, passed: 1, median: 2, maxScore: 4 });
    expect(st.mean).toBe(2);
    expect(st.histogram[10]).toBe(1);
    expect(st.histogram[5]).toBe(1);
    expect(st.histogram[0]).toBe(1);
    expect(st.checks.find((c) => c.id === 'a')).toMatchObject({ passed: 2, attempted: 2, title: 'note "…" exists' });
  });
  it('hides per-learner values in aggregated titles', () => {
    expect(genericTitle('PUT renamed note 2 to "olive-router"')).toBe('PUT renamed note … to "…"');
  });
});

describe('class reports', () => {
  it('writes a CSV a gradebook can import, with quoting', () => {
    const csv = renderCsv(results).trim().split('\n');
    expect(csv[0]).toBe(
      'learner,score,max_score,percent,status,all_required_passed,check:a,check:b,error,error_by,grader_retries',
    );
    expect(csv[1]).toBe('ada,4,4,100,graded,true,2,2,,,0');
    expect(csv[3]).toBe('cy,0,4,0,invalid,false,,,"web.sh, ""bad""",,0');
  });
  it('summarizes in the terminal', () => {
    const text = renderClassTerminal(results);
    expect(text).toMatch(/ada\s+4\/4\s+graded\s+all required checks pass/);
    expect(text).toMatch(/cy\s+0\/4\s+invalid\s+web.sh/);
  });
  it('renders escaped, self-contained HTML for the class and for each learner', () => {
    const html = renderClassHtml(results);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|https?:\/\//);
    expect(html).toContain('href="learners/ada.html"');
    const page = renderLearnerHtml(results, results.learners[1]!);
    expect(page).toContain('r &lt;x&gt;');
    expect(page).toContain('no &amp; such');
  });
  it('writes JUnit that validates, also for a submission that could not be graded', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hn-junit-'));
    const files = results.learners.map((l) => {
      const f = join(dir, `${l.id}.xml`);
      writeFileSync(f, learnerJunit(results, l));
      return f;
    });
    const r = spawnSync(
      'xmllint',
      ['--noout', '--schema', join(projectRoot(), 'test', 'fixtures', 'junit.xsd'), ...files],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(learnerJunit(results, results.learners[2]!)).toMatch(/<error message="invalid: web.sh, &quot;bad&quot;"/);
  });
});

describe('grading plumbing', () => {
  it('slices a class deterministically into shards that cover it once', () => {
    const items = ['a', 'b', 'c', 'd', 'e'];
    expect(shard(items, '1/2')).toEqual(['a', 'c', 'e']);
    expect(shard(items, '2/2')).toEqual(['b', 'd']);
    expect(() => shard(items, '3/2')).toThrow(/--shard takes I\/N/);
  });
  it('merges shard results, later entries winning per learner', () => {
    const m = mergeResults([
      { ...results, learners: [learner('bob', 2)] },
      { ...results, learners: [learner('ada', 4), learner('bob', 4)] },
    ]);
    expect(m.learners.map((l) => [l.id, l.score])).toEqual([
      ['ada', 4],
      ['bob', 4],
    ]);
    expect(() => mergeResults([results, { ...results, lab: '02' }])).toThrow(/cannot merge/);
  });
  it('picks parallel jobs from cores and memory', () => {
    expect(autoJobs(2, 24 * 2 ** 30)).toBe(4);
    expect(autoJobs(16, 24 * 2 ** 30)).toBe(8);
    expect(autoJobs(8, 1 * 2 ** 30)).toBe(1);
  });
});
