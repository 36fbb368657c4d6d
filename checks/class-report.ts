// Reports for a graded class: terminal summary, CSV for a gradebook, JUnit per learner, and
// self-contained HTML (a class overview for the teacher and one page per learner to hand back).
import type { ClassResults, LearnerResult } from './class-types.js';
import { hintLines, renderJunit, xmlEscape } from './report.js';
import type { Report } from './types.js';

const esc = xmlEscape;

export function learnerReport(results: ClassResults, l: LearnerResult): Report {
  return {
    lab: results.lab,
    title: results.title,
    instance: l.id,
    seed: l.seed,
    score: l.score,
    maxScore: l.maxScore,
    passed: l.passed,
    inconclusive: l.checks.filter((c) => c.status === 'inconclusive').map((c) => c.id),
    results: l.checks,
    ms: l.durations.totalMs,
    startedAt: l.gradedAt,
  };
}

/** JUnit for one learner; an invalid or crashed submission is one failing test case with its error. */
export function learnerJunit(results: ClassResults, l: LearnerResult): string {
  if (l.status === 'invalid' || l.status === 'error') {
    return [
      '<?xml version="1.0" encoding="UTF-8"?>',
      `<testsuites name="hurrynet" tests="1" failures="0" errors="1" time="${(l.durations.totalMs / 1000).toFixed(3)}">`,
      `  <testsuite name="hurrynet.lab${esc(results.lab)}.${esc(l.id)}" tests="1" failures="0" errors="1" skipped="0" time="${(l.durations.totalMs / 1000).toFixed(3)}" timestamp="${l.gradedAt.replace(/Z$/, '')}">`,
      `    <testcase classname="hurrynet.lab${esc(results.lab)}" name="submission" time="0.000">`,
      `      <error message="${esc(`${l.status}: ${l.error ?? ''}`)}" type="${l.status}">${esc(l.error ?? '')}</error>`,
      '    </testcase>',
      '  </testsuite>',
      '</testsuites>',
      '',
    ].join('\n');
  }
  return renderJunit(learnerReport(results, l), `hurrynet.lab${results.lab}.${l.id}`);
}

function csvCell(v: string | number | boolean | undefined): string {
  const s = String(v ?? '');
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function renderCsv(results: ClassResults): string {
  const checkIds = [...new Set(results.learners.flatMap((l) => l.checks.map((c) => c.id)))];
  const header = [
    'learner',
    'score',
    'max_score',
    'percent',
    'status',
    'all_required_passed',
    ...checkIds.map((c) => `check:${c}`),
    'error',
    'error_by',
    'grader_retries',
  ];
  const rows = results.learners.map((l) => [
    l.id,
    l.score,
    l.maxScore,
    l.maxScore ? Math.round((100 * l.score) / l.maxScore) : 0,
    l.status,
    l.passed,
    ...checkIds.map((id) => {
      const c = l.checks.find((x) => x.id === id);
      return c ? (c.status === 'inconclusive' ? 'inconclusive' : c.earned) : '';
    }),
    l.error?.split('\n')[0],
    l.errorBy,
    l.retries?.length ?? 0,
  ]);
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

export interface ClassStats {
  learners: number;
  graded: number;
  invalid: number;
  errors: number;
  passed: number;
  mean: number;
  median: number;
  maxScore: number;
  /** Learners per score band of 10 %: index 0 is 0–9 %, 10 is 100 %. */
  histogram: number[];
  checks: { id: string; title: string; points: number; passed: number; attempted: number }[];
}

/** A check title without the per-learner values in it ("note 2" → "note …"). */
export function genericTitle(title: string): string {
  return title.replace(/"[^"]*"/g, '"…"').replace(/\b\d+(\.\d+)*\b/g, '…');
}

export function classStats(results: ClassResults): ClassStats {
  const ls = results.learners;
  const maxScore = Math.max(0, ...ls.map((l) => l.maxScore));
  const scores = ls.map((l) => l.score).sort((a, b) => a - b);
  const mid = Math.floor(scores.length / 2);
  const median = scores.length
    ? scores.length % 2
      ? (scores[mid] as number)
      : ((scores[mid - 1] as number) + (scores[mid] as number)) / 2
    : 0;
  const histogram = new Array<number>(11).fill(0);
  for (const l of ls) {
    const band = l.maxScore ? Math.floor((10 * l.score) / l.maxScore) : 0;
    histogram[band] = (histogram[band] ?? 0) + 1;
  }
  const checks = new Map<string, { id: string; title: string; points: number; passed: number; attempted: number }>();
  for (const l of ls.filter((x) => x.status === 'graded')) {
    for (const c of l.checks) {
      const e = checks.get(c.id) ?? { id: c.id, title: c.title, points: c.points, passed: 0, attempted: 0 };
      // Titles may carry a learner's own values: across the class, show the shape only.
      if (e.title !== c.title) e.title = genericTitle(c.title);
      e.attempted++;
      if (c.passed) e.passed++;
      checks.set(c.id, e);
    }
  }
  return {
    learners: ls.length,
    graded: ls.filter((l) => l.status === 'graded').length,
    invalid: ls.filter((l) => l.status === 'invalid').length,
    errors: ls.filter((l) => l.status === 'error').length,
    passed: ls.filter((l) => l.passed).length,
    mean: ls.length ? scores.reduce((a, b) => a + b, 0) / ls.length : 0,
    median,
    maxScore,
    histogram,
    checks: [...checks.values()],
  };
}

export function renderClassTerminal(results: ClassResults): string {
  const st = classStats(results);
  const w = Math.max(7, ...results.learners.map((l) => l.id.length));
  const lines = [`Lab ${results.lab}: ${results.title} — ${st.learners} submissions`, ''];
  lines.push(`${'learner'.padEnd(w)}  score    status   note`);
  for (const l of results.learners) {
    const note =
      l.status === 'graded'
        ? l.passed
          ? 'all required checks pass'
          : `failed: ${l.checks
              .filter((c) => !c.passed)
              .map((c) => c.id)
              .join(', ')}`
        : l.status === 'inconclusive'
          ? `the grader could not observe: ${l.checks
              .filter((c) => c.status === 'inconclusive')
              .map((c) => c.id)
              .join(', ')} (regrade)`
          : `${l.errorBy === 'grader' ? "grader's error: " : ''}${l.error ?? ''}`;
    const retried = l.retries?.length ? ` [retried ${l.retries.length}x: grader]` : '';
    lines.push(
      `${l.id.padEnd(w)}  ${`${l.score}/${l.maxScore}`.padEnd(7)}  ${l.status.padEnd(7)}  ${(note.split('\n')[0]?.slice(0, 90) ?? '') + retried}`,
    );
  }
  lines.push('');
  lines.push(
    `mean ${st.mean.toFixed(1)}/${st.maxScore}, median ${st.median}, ${st.passed} passed, ${st.invalid} invalid, ${st.errors} errors`,
  );
  for (const c of st.checks)
    lines.push(`  ${String(Math.round((100 * c.passed) / Math.max(1, c.attempted))).padStart(3)} %  ${c.title}`);
  return lines.join('\n') + '\n';
}

const STYLE = `
  body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 70rem; padding: 0 1rem; color: #1d2433; background: #fff; }
  h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #dde3ee; padding-bottom: .3rem; }
  .muted { color: #5b6577; } table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #eef1f6; vertical-align: top; }
  th { font-weight: 600; background: #f6f8fb; } .num { text-align: right; font-variant-numeric: tabular-nums; }
  .pass { color: #17663a; font-weight: 600; } .fail { color: #b3261e; font-weight: 600; } .warn { color: #8a5a00; font-weight: 600; }
  .bar { background: #e8edf5; border-radius: 3px; height: .9rem; position: relative; min-width: 8rem; } .bar > span { display: block; height: 100%; border-radius: 3px; background: #3b6fd8; }
  .cards { display: flex; gap: 1rem; flex-wrap: wrap; } .card { border: 1px solid #dde3ee; border-radius: 8px; padding: .7rem 1rem; min-width: 8rem; } .card b { font-size: 1.4rem; display: block; }
  pre { background: #f6f8fb; border: 1px solid #e3e8f0; border-radius: 6px; padding: .5rem .7rem; overflow-x: auto; font-size: 13px; white-space: pre-wrap; }
  .hist { display: flex; align-items: flex-end; gap: 4px; height: 140px; border-bottom: 1px solid #aab3c5; padding-top: 1rem; } .hist div { flex: 1; background: #3b6fd8; border-radius: 3px 3px 0 0; position: relative; min-height: 1px; }
  .hist div span { position: absolute; top: -1.2rem; width: 100%; text-align: center; font-size: 12px; color: #1d2433; } .hist-labels { display: flex; gap: 4px; font-size: 12px; color: #5b6577; } .hist-labels span { flex: 1; text-align: center; }
  a { color: #2452b5; }`;

function page(title: string, body: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><style>${STYLE}</style></head>\n<body>\n${body}\n</body></html>\n`;
}

export function renderClassHtml(
  results: ClassResults,
  learnerHref = (id: string) => `learners/${encodeURIComponent(id)}.html`,
): string {
  const st = classStats(results);
  const peak = Math.max(1, ...st.histogram);
  const hist = st.histogram
    .map(
      (n, i) =>
        `<div title="${i * 10}${i < 10 ? `–${i * 10 + 9}` : ''} %: ${n}" style="height:${(100 * n) / peak}%"><span>${n || ''}</span></div>`,
    )
    .join('');
  const labels = st.histogram.map((_, i) => `<span>${i * 10}</span>`).join('');
  const checks = st.checks
    .map((c) => {
      const rate = Math.round((100 * c.passed) / Math.max(1, c.attempted));
      return `<tr><td>${esc(c.title)}<div class="muted">${esc(c.id)} · ${c.points} pt</div></td><td class="num">${c.passed}/${c.attempted}</td><td><div class="bar"><span style="width:${rate}%"></span></div></td><td class="num">${rate} %</td></tr>`;
    })
    .join('\n');
  const rows = results.learners
    .map((l) => {
      const status =
        l.status !== 'graded'
          ? `<span class="warn">${l.status}</span>`
          : l.passed
            ? '<span class="pass">passed</span>'
            : '<span class="fail">not yet</span>';
      const pct = l.maxScore ? Math.round((100 * l.score) / l.maxScore) : 0;
      const base =
        l.status !== 'graded'
          ? `${l.errorBy === 'grader' ? "grader's error: " : ''}${l.error?.split('\n')[0] ?? ''}`
          : l.checks
              .filter((c) => !c.passed)
              .map((c) => c.id)
              .join(', ');
      const note =
        esc(base) + (l.retries?.length ? ` <span class="warn">retried ${l.retries.length}× (grader)</span>` : '');
      return `<tr><td><a href="${learnerHref(l.id)}">${esc(l.id)}</a></td><td class="num">${l.score}/${l.maxScore}</td><td><div class="bar"><span style="width:${pct}%"></span></div></td><td>${status}</td><td class="muted">${note}</td></tr>`;
    })
    .join('\n');
  return page(
    `Lab ${results.lab} — class report`,
    `<h1>Lab ${esc(results.lab)}: ${esc(results.title)}</h1>
<p class="muted">Class report generated ${esc(results.generatedAt)} · lab version ${esc(results.labVersion)}${results.shard ? ` · shard ${esc(results.shard)}` : ''}</p>
<section id="overview"><h2>Overview</h2>
<div class="cards"><div class="card"><b>${st.learners}</b>submissions</div><div class="card"><b>${st.passed}</b>passed every required check</div><div class="card"><b>${st.mean.toFixed(1)} / ${st.maxScore}</b>mean score</div><div class="card"><b>${st.median}</b>median</div><div class="card"><b>${st.invalid + st.errors}</b>invalid or errors</div></div>
<h2>Score distribution (% of the maximum)</h2><div class="hist" role="img" aria-label="score distribution">${hist}</div><div class="hist-labels">${labels}</div>
</section>
<section id="checks"><h2>Checks: which concepts the class got</h2><table><thead><tr><th>check</th><th class="num">passed</th><th></th><th class="num">rate</th></tr></thead><tbody>
${checks || '<tr><td colspan="4" class="muted">no graded submissions</td></tr>'}
</tbody></table></section>
<section id="learners"><h2>Learners</h2><table><thead><tr><th>learner</th><th class="num">score</th><th></th><th>status</th><th>failed checks / error</th></tr></thead><tbody>
${rows}
</tbody></table></section>`,
  );
}

export function renderLearnerHtml(results: ClassResults, l: LearnerResult): string {
  const checks = l.checks
    .map((c) => {
      const evidence = c.evidence
        .map(
          (e) =>
            `<pre>[${esc(e.where)}] $ ${esc(e.command)}\n(exit ${e.exitCode})\n${esc(e.output.slice(0, 4000))}</pre>`,
        )
        .join('');
      const mark =
        c.status === 'inconclusive'
          ? '<span class="warn">not observed</span>'
          : c.passed
            ? '<span class="pass">pass</span>'
            : c.required
              ? '<span class="fail">fail</span>'
              : '<span class="warn">missed</span>';
      return `<tr><td>${mark}</td><td class="num">${c.earned}/${c.points}</td><td><b>${esc(c.title)}</b><div>${esc(c.reason)}</div>${hintLines(
        c,
      )
        .map((h) => `<div><b>${esc(h.slice(0, h.indexOf(':') + 1))}</b>${esc(h.slice(h.indexOf(':') + 1))}</div>`)
        .join('')}${c.passed ? '' : `<details><summary>evidence</summary>${evidence}</details>`}</td></tr>`;
    })
    .join('\n');
  const title =
    l.errorBy === 'learner'
      ? 'Your scripts reported a problem'
      : l.status === 'inconclusive'
        ? 'The grader could not observe everything (not your mistake)'
        : 'Your submission could not be graded';
  const problem = l.status !== 'graded' || l.error ? `<h2>${title}</h2><pre>${esc(l.error ?? '')}</pre>` : '';
  const retried = l.retries?.length
    ? `<p class="muted">The grader spoiled ${l.retries.length === 1 ? 'one attempt' : `${l.retries.length} attempts`} and graded again on a fresh world: ${l.retries.map((r) => esc(r.cause.split('\n')[0] ?? '')).join('; ')}</p>`
    : '';
  return page(
    `Lab ${results.lab} — ${l.id}`,
    `<h1>Lab ${esc(results.lab)}: ${esc(results.title)}</h1>
<p class="muted">Feedback for <b>${esc(l.id)}</b> · graded ${esc(l.gradedAt)} · variation ${esc(l.seed)}</p>
<div class="cards"><div class="card"><b>${l.score} / ${l.maxScore}</b>score</div><div class="card"><b>${l.passed ? 'yes' : 'not yet'}</b>every required check passes</div></div>
${problem}${retried}
<h2>Checks</h2><table><tbody>
${checks || '<tr><td class="muted">no checks were run</td></tr>'}
</tbody></table>`,
  );
}
