import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { learnerJunit, renderCsv } from '../../checks/class-report.js';
import type { CheckResult, Report } from '../../checks/types.js';
import { writeReports } from '../../orchestrator/cli/commands/grade.js';
import { classJunit, classResults, EXPORT_FORMATS, renderExport } from '../../orchestrator/classroom/export.js';
import type { LearnerRow } from '../../orchestrator/classroom/store.js';
import { projectRoot } from '../../orchestrator/runtime/paths.js';

const lab = { id: '03', title: 'DNS & "names" <here>' };
const now = new Date('2026-03-01T12:00:00.000Z');

function row(id: string, name: string, over: Partial<LearnerRow> = {}): LearnerRow {
  return { id, name, seed: null, createdAt: '2026-03-01T09:00:00.000Z', revokedAt: null, engine: null, ...over };
}

function check(id: string, earned: number, over: Partial<CheckResult> = {}): CheckResult {
  return {
    id,
    title: `check ${id} <&>`,
    points: 2,
    earned,
    required: true,
    passed: earned === 2,
    status: earned === 2 ? 'passed' : 'failed',
    reason: 'because "x" & <y>',
    hints: ['look: here'],
    evidence: [{ where: 'probe@alice', command: 'dig +short bob', exitCode: 1, output: 'no\n</testsuites>\n& more' }],
    attempts: 1,
    ms: 250,
    ...over,
  };
}

function report(results: CheckResult[], over: Partial<Report> = {}): Report {
  return {
    lab: '03',
    title: lab.title,
    instance: 'class-x',
    seed: 'run-seed',
    score: results.reduce((a, r) => a + r.earned, 0),
    maxScore: results.reduce((a, r) => a + r.points, 0),
    passed: results.every((r) => r.passed || !r.required),
    inconclusive: results.filter((r) => r.status === 'inconclusive').map((r) => r.id),
    results,
    ms: 1500,
    startedAt: '2026-03-01T11:00:00.000Z',
    ...over,
  };
}

const learners: LearnerRow[] = [
  row('ada', 'Lovelace, Ada "the first"', { seed: 'ada-seed' }),
  row('bob', 'Bob'),
  row('cy', 'Cy', { seed: 'cy-seed' }),
  row('dee', 'Dee', { revokedAt: '2026-03-01T10:00:00.000Z' }),
  row('eve', 'Eve'),
];

const latest = new Map<string, Report>([
  ['ada', report([check('a', 2), check('b', 2)])],
  ['bob', report([check('a', 2), check('b', 0)], { startedAt: '2026-03-01T11:30:00.000Z' })],
  [
    'eve',
    report([check('a', 2), check('b', 0, { status: 'inconclusive', passed: false })], {
      seed: 'eve-run',
    }),
  ],
  ['dee', report([check('a', 2), check('b', 2)])],
]);

const results = classResults(lab, learners, latest, now);

function xmllint(xml: string): { status: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hn-class-junit-'));
  try {
    const f = join(dir, 'class.xml');
    writeFileSync(f, xml);
    return spawnSync('xmllint', ['--noout', '--schema', join(projectRoot(), 'test', 'fixtures', 'junit.xsd'), f], {
      encoding: 'utf8',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('classroom export: class results', () => {
  it('has the lab, the time, and every learner not revoked, in order', () => {
    expect(results.lab).toBe('03');
    expect(results.title).toBe(lab.title);
    expect(results.generatedAt).toBe('2026-03-01T12:00:00.000Z');
    expect(results.learners.map((l) => l.id)).toEqual(['ada', 'bob', 'cy', 'eve']);
  });

  it("turns each learner's newest report into a result like the grader's", () => {
    const [ada, bob, cy, eve] = results.learners;
    expect(ada).toMatchObject({
      id: 'ada',
      seed: 'run-seed',
      status: 'graded',
      score: 4,
      maxScore: 4,
      passed: true,
      gradedAt: '2026-03-01T11:00:00.000Z',
      durations: { startMs: 0, applyMs: 0, checkMs: 1500, totalMs: 1500 },
    });
    expect(ada).not.toHaveProperty('error');
    expect(ada?.checks).toEqual(latest.get('ada')?.results);
    expect(bob).toMatchObject({ status: 'graded', score: 2, passed: false, gradedAt: '2026-03-01T11:30:00.000Z' });
    expect(eve).toMatchObject({ status: 'inconclusive', seed: 'eve-run' });
    // Never ran the check: an error of theirs, with nothing graded.
    expect(cy).toMatchObject({
      status: 'error',
      score: 0,
      maxScore: 0,
      passed: false,
      error: 'no check run yet',
      errorBy: 'learner',
      seed: 'cy-seed',
      checks: [],
    });
  });

  it('gives every learner a valid date, also one who never ran or whose report has none', () => {
    const r = classResults(
      lab,
      [row('ada', 'Ada'), row('bob', 'Bob')],
      new Map([['bob', report([], { startedAt: '' })]]),
      now,
    );
    for (const l of r.learners) expect(Number.isNaN(Date.parse(l.gradedAt)), l.id).toBe(false);
    expect(r.learners.map((l) => l.gradedAt)).toEqual([now.toISOString(), now.toISOString()]);
    const lint = xmllint(renderExport(r, 'junit').body);
    expect(lint.status, lint.stderr).toBe(0);
  });

  it('is empty for a class without learners', () => {
    const r = classResults(lab, [], new Map(), now);
    expect(r.learners).toEqual([]);
    expect(renderExport(r, 'csv').body).toBe(
      'learner,score,max_score,percent,status,all_required_passed,error,error_by,grader_retries\n',
    );
    expect(xmllint(renderExport(r, 'junit').body).status).toBe(0);
  });
});

describe('classroom export: formats', () => {
  it('offers csv, json and junit with their content types', () => {
    expect(EXPORT_FORMATS).toEqual(['csv', 'json', 'junit']);
    expect(renderExport(results, 'csv').type).toBe('text/csv; charset=utf-8');
    expect(renderExport(results, 'json').type).toBe('application/json; charset=utf-8');
    expect(renderExport(results, 'junit').type).toBe('application/xml; charset=utf-8');
  });

  it('writes the CSV of `hurrynet grade`', () => {
    const csv = renderExport(results, 'csv').body;
    expect(csv).toBe(renderCsv(results));
    const lines = csv.trimEnd().split('\n');
    expect(lines).toEqual([
      'learner,score,max_score,percent,status,all_required_passed,check:a,check:b,error,error_by,grader_retries',
      'ada,4,4,100,graded,true,2,2,,,0',
      'bob,2,4,50,graded,false,2,0,,,0',
      'cy,0,0,0,error,false,,,no check run yet,learner,0',
      'eve,2,4,50,inconclusive,false,2,inconclusive,,,0',
    ]);
    // Names (with their commas and quotes) are not part of the grader's columns.
    expect(csv).not.toContain('Lovelace');
  });

  it('is the same CSV and JSON as `hurrynet grade` writes to its folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hn-class-grade-'));
    try {
      writeReports(dir, results);
      expect(renderExport(results, 'csv').body).toBe(readFileSync(join(dir, 'grades.csv'), 'utf8'));
      expect(renderExport(results, 'json').body).toBe(readFileSync(join(dir, 'results.json'), 'utf8'));
      // The class JUnit holds each learner's suite exactly as grade's junit/<id>.xml does.
      const junit = renderExport(results, 'junit').body;
      for (const l of results.learners) {
        const own = readFileSync(join(dir, 'junit', `${l.id}.xml`), 'utf8').split('\n');
        const suite = own.slice(2, own.lastIndexOf('</testsuites>')).join('\n');
        expect(suite).toMatch(/^ {2}<testsuite /);
        expect(junit).toContain(suite);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('quotes CSV cells with commas, quotes and line breaks', () => {
    const r = classResults(
      lab,
      [row('ada', 'Ada')],
      new Map([['ada', report([check('x,"y"', 2), check('multi\nline', 0)])]]),
      now,
    );
    const csv = renderExport(r, 'csv').body;
    expect(
      csv.startsWith(
        'learner,score,max_score,percent,status,all_required_passed,"check:x,""y""","check:multi\nline",error,error_by,grader_retries\nada,',
      ),
    ).toBe(true);
    expect(csv).toContain('"check:multi\nline"');
  });

  it('writes JSON that reads back as the results', () => {
    const body = renderExport(results, 'json').body;
    expect(body.endsWith('}\n')).toBe(true);
    expect(JSON.parse(body)).toEqual(JSON.parse(JSON.stringify(results)));
  });

  it('writes one JUnit document, a suite per learner, that validates', () => {
    const xml = renderExport(results, 'junit').body;
    expect(xml).toBe(classJunit(results));
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="hurrynet"')).toBe(true);
    expect(xml.endsWith('</testsuites>\n')).toBe(true);
    expect(xml.match(/<testsuites[ >]/g)).toHaveLength(1);
    expect(xml.match(/<\/testsuites>/g)).toHaveLength(1);
    expect(xml.match(/<testsuite /g)).toHaveLength(4);
    for (const id of ['ada', 'bob', 'cy', 'eve']) expect(xml).toContain(`<testsuite name="hurrynet.lab03.${id}"`);
    // The learner's own text is escaped, the evidence's "</testsuites>" too.
    expect(xml).toContain('&lt;/testsuites&gt;');
    expect(xml).toContain('check a &lt;&amp;&gt;');
    expect(xml).toContain('<error message="error: no check run yet" type="error">');
    for (const l of results.learners) {
      const own = learnerJunit(results, l).split('\n');
      expect(xml).toContain(own.slice(2, own.lastIndexOf('</testsuites>')).join('\n'));
    }
    const lint = xmllint(xml);
    expect(lint.status, lint.stderr).toBe(0);
  });
});
