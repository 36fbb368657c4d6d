// Grades of a lab from the class's check history, in the grader's own formats: the newest run of
// each learner becomes a LearnerResult, and checks/class-report.ts renders CSV and JUnit as for
// `hurrynet grade`.
import { learnerJunit, renderCsv } from '../../checks/class-report.js';
import type { ClassResults, LearnerResult } from '../../checks/class-types.js';
import type { Report } from '../../checks/types.js';
import type { LearnerRow } from './store.js';
import { learnerSeed } from './class-file.js';

export type ExportFormat = 'csv' | 'json' | 'junit';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'json', 'junit'];

function learnerResult(l: LearnerRow, report: Report | undefined, now: Date): LearnerResult {
  const ms = report?.ms ?? 0;
  return {
    id: l.id,
    folder: '',
    seed: report?.seed ?? learnerSeed(l),
    // A learner who never ran the check has nothing graded: an error of theirs, with 0 points.
    status: !report ? 'error' : report.inconclusive.length ? 'inconclusive' : 'graded',
    score: report?.score ?? 0,
    maxScore: report?.maxScore ?? 0,
    passed: report?.passed ?? false,
    ...(report ? {} : { error: 'no check run yet', errorBy: 'learner' as const }),
    key: '',
    checks: report?.results ?? [],
    durations: { startMs: 0, applyMs: 0, checkMs: ms, totalMs: ms },
    // As the grader dates a submission it could not grade: now (JUnit's timestamp must be a date).
    gradedAt: report?.startedAt || now.toISOString(),
  };
}

export function classResults(
  lab: { id: string; title: string },
  learners: LearnerRow[],
  latest: ReadonlyMap<string, Report>,
  now: Date,
): ClassResults {
  return {
    lab: lab.id,
    title: lab.title,
    labVersion: '',
    generatedAt: now.toISOString(),
    learners: learners.filter((l) => !l.revokedAt).map((l) => learnerResult(l, latest.get(l.id), now)),
  };
}

/** One JUnit document with a test suite per learner (learnerJunit writes one document each). */
export function classJunit(results: ClassResults): string {
  const suites = results.learners.flatMap((l) => {
    const lines = learnerJunit(results, l).split('\n');
    return lines.slice(2, lines.lastIndexOf('</testsuites>'));
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<testsuites name="hurrynet">',
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}

export function renderExport(results: ClassResults, format: ExportFormat): { type: string; body: string } {
  if (format === 'csv') return { type: 'text/csv; charset=utf-8', body: renderCsv(results) };
  if (format === 'junit') return { type: 'application/xml; charset=utf-8', body: classJunit(results) };
  return { type: 'application/json; charset=utf-8', body: JSON.stringify(results, null, 2) + '\n' };
}
