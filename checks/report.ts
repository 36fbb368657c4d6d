// Reporters: the terminal table a learner reads, JSON and JUnit XML for machines.
import { HINT_LEVEL_NAMES, MAX_HINT_LEVEL, type CheckResult, type Report } from './types.js';

export interface Style {
  bold(s: string): string;
  green(s: string): string;
  red(s: string): string;
  dim(s: string): string;
}

const plain: Style = { bold: (s) => s, green: (s) => s, red: (s) => s, dim: (s) => s };

function cutLine(l: string, width: number): string {
  return l.length > width ? l.slice(0, width - 1) + '…' : l;
}

function clip(text: string, lines: number, width = 160): string {
  const all = text.replace(/\s+$/, '').split('\n');
  const shown = all.slice(0, lines).map((l) => cutLine(l, width));
  if (all.length > lines) shown.push(`… (${all.length - lines} more lines)`);
  return shown.join('\n');
}

/** A line that tells why something failed: an error word, or a 4xx/5xx reply of a protocol dialogue. */
const CAUSE =
  /\b(errors?|fail(s|ed|ure)?|refused|denied|timed? ?out|unreachable|not found|no such|cannot|can't|invalid|abort(ed)?|reset|unknown)\b|^\s*[<>]?\s*[45]\d\d[\s-]/i;

/**
 * The lines of a program's output that matter, in at most `max` lines: its first line (the
 * banner, the command's own header), then the end of the output up to the last line that says
 * what went wrong. A dialogue's cause is near its end, rarely in its first lines.
 */
export function excerpt(text: string, max = 6, width = 160): string {
  const all = text.replace(/\s+$/, '').split('\n');
  if (all.length <= max) return all.map((l) => cutLine(l, width)).join('\n');
  let focus = -1;
  for (let i = all.length - 1; i > 0 && focus < 0; i--) if (CAUSE.test(all[i] as string)) focus = i;
  const end = focus > 0 ? Math.min(all.length, focus + 2) : all.length;
  const start = Math.max(1, end - (max - 1));
  const shown = [all[0] as string];
  const lines = (n: number) => `${n} line${n === 1 ? '' : 's'}`;
  if (start > 1) shown.push(`… (${lines(start - 1)})`);
  shown.push(...all.slice(start, end));
  if (end < all.length) shown.push(`… (${lines(all.length - end)} more)`);
  return shown.map((l) => cutLine(l, width)).join('\n');
}

export interface TerminalOptions {
  /** Every line of the evidence, for failures and passes alike. */
  verbose?: boolean;
  /** The command that shows hints up to `level` (for the report's last line). */
  hintCommand?: (level: number) => string;
}

/** One line per shown hint level, labelled with what the level offers. */
export function hintLines(r: Pick<CheckResult, 'hints'>): string[] {
  return (r.hints ?? []).map((h, i) => `hint ${i + 1}/${MAX_HINT_LEVEL} (${HINT_LEVEL_NAMES[i] ?? 'more'}): ${h}`);
}

/** Which hint level the report showed, and how to see the next one when a failed check has more. */
export function hintSummary(report: Report, command?: (level: number) => string): string | undefined {
  const level = report.hintLevel ?? 1;
  const failed = report.results.filter((r) => r.status === 'failed');
  if (!failed.length) return undefined;
  if (level <= 0) return 'Hints are not shown in this report.';
  const shown = `Hints shown: level ${Math.min(level, MAX_HINT_LEVEL)} of ${MAX_HINT_LEVEL}`;
  if (level >= MAX_HINT_LEVEL) return `${shown} (the fix).`;
  const next = HINT_LEVEL_NAMES[level] ?? 'more';
  return command ? `${shown}. For ${next}: ${command(level + 1)}` : `${shown}.`;
}

export function renderTerminal(report: Report, style: Style = plain, opts: TerminalOptions = {}): string {
  const out: string[] = [];
  let shortened = false;
  out.push(
    style.bold(`Lab ${report.lab}: ${report.title}`) +
      style.dim(`  (instance ${report.instance}, seed ${report.seed})`),
  );
  out.push('');
  for (const r of report.results) {
    const mark =
      r.status === 'inconclusive'
        ? style.bold('????')
        : r.passed
          ? style.green('PASS')
          : r.required
            ? style.red('FAIL')
            : style.dim('MISS');
    const pts = `${r.earned}/${r.points}`.padStart(5);
    out.push(`${mark} ${pts}  ${r.title}${r.required ? '' : style.dim(' (optional)')}`);
    if (!r.passed) out.push(`           why:  ${r.reason}`);
    if (!r.passed || opts.verbose) {
      for (const e of opts.verbose ? r.evidence : r.evidence.slice(-2)) {
        const command = opts.verbose ? e.command : clip(e.command, 1, 120);
        out.push(style.dim(`           ran:  [${e.where}] ${command}  → exit ${e.exitCode}`));
        const output = opts.verbose ? e.output.replace(/\s+$/, '') : excerpt(e.output);
        shortened ||= output !== e.output.replace(/\s+$/, '');
        if (output.trim()) out.push(style.dim(output.replace(/^/gm, '                 ')));
      }
    }
    if (!r.passed) for (const line of hintLines(r)) out.push(`           ${line}`);
  }
  out.push('');
  const hints = hintSummary(report, opts.hintCommand);
  const verdict = report.passed
    ? style.green('all required checks pass')
    : failedRequired(report).length
      ? style.red('some required checks fail')
      : style.bold('not graded yet');
  out.push(
    `${style.bold(`Score ${report.score}/${report.maxScore}`)}: ${verdict} ${style.dim(`(${(report.ms / 1000).toFixed(1)} s)`)}`,
  );
  if (hints) out.push(style.dim(hints));
  if (shortened) out.push(style.dim('Evidence was shortened to the lines that matter; --verbose shows all of it.'));
  const unsure = report.inconclusive ?? [];
  if (unsure.length) {
    out.push(
      style.bold(
        `The grader could not observe ${unsure.length === 1 ? 'one check' : `${unsure.length} checks`} (${unsure.join(', ')}), so the score is not final.`,
      ) + ' This is not your mistake (the machine was too busy, or a probe did not start): run the check again.',
    );
  }
  return out.join('\n') + '\n';
}

/** Required checks the learner's world really failed (not the ones the grader could not observe). */
export function failedRequired(report: Report): Report['results'] {
  return report.results.filter((r) => r.required && r.status === 'failed');
}

export function renderJson(report: Report): string {
  return JSON.stringify(report, null, 2) + '\n';
}

export function xmlEscape(text: string): string {
  return (
    text
      // XML 1.0 forbids most control characters even when escaped.
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

export function renderJunit(report: Report, suiteName = `hurrynet.lab${report.lab}`): string {
  const failed = failedRequired(report).length;
  const errors = report.results.filter((r) => r.status === 'inconclusive').length;
  const skipped = report.results.filter((r) => r.status === 'failed' && !r.required).length;
  const cases = report.results.map((r) => {
    const head = `    <testcase classname="${xmlEscape(suiteName)}" name="${xmlEscape(`${r.id}: ${r.title}`)}" time="${(r.ms / 1000).toFixed(3)}"`;
    if (r.passed) return `${head}/>`;
    const evidence = r.evidence
      .map((e) => `[${e.where}] $ ${e.command}\n(exit ${e.exitCode})\n${e.output}`)
      .join('\n\n');
    // JUnit's <error> is "the test could not run", which is what an inconclusive check is.
    const body =
      r.status === 'inconclusive'
        ? `      <error message="${xmlEscape(r.reason)}" type="inconclusive">${xmlEscape(`${r.reason}\n\n${evidence}`)}</error>`
        : r.required
          ? `      <failure message="${xmlEscape(r.reason)}" type="required">${xmlEscape(`${r.reason}\n${hintLines(r).join('\n')}\n\n${evidence}`)}</failure>`
          : `      <skipped message="${xmlEscape(`optional check missed: ${r.reason}`)}"/>`;
    return `${head}>\n${body}\n    </testcase>`;
  });
  const time = (report.ms / 1000).toFixed(3);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="hurrynet" tests="${report.results.length}" failures="${failed}" errors="${errors}" time="${time}">`,
    `  <testsuite name="${xmlEscape(suiteName)}" tests="${report.results.length}" failures="${failed}" errors="${errors}" skipped="${skipped}" time="${time}" timestamp="${report.startedAt.replace(/Z$/, '')}">`,
    `    <properties><property name="score" value="${report.score}"/><property name="maxScore" value="${report.maxScore}"/><property name="seed" value="${xmlEscape(report.seed)}"/></properties>`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
