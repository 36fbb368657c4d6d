// Moving through the course: `lab N` while another lab runs on the instance replaces it, and asks
// first only when the learner would lose work. That work is concrete: answers in alice's answers
// file that changed after the last `check` (which records a digest of the file it graded, on alice
// under /run/hurrynet/, where a fresh world has none).
import { createHash } from 'node:crypto';
import type { Driver } from '../runtime/driver.js';
import { containerName } from '../runtime/plan.js';
import { FILES } from '../world/files.js';
import type { Lab } from './lab.js';
import type { Report } from '../../checks/types.js';

/** What `check` records of the answers file it graded. */
export const CHECKED_PATH = '/run/hurrynet/checked.json';

/** A digest of an answers file, or undefined when there is none or it holds only blanks. */
export function answersDigest(text: string | undefined): string | undefined {
  if (text === undefined || !text.trim()) return undefined;
  return createHash('sha256').update(text).digest('hex');
}

/** Answers the learner wrote that no `check` has seen in this form: lost if the world goes. */
export function hasUnsavedAnswers(answers: string | undefined, checkedDigest: string | undefined): boolean {
  const digest = answersDigest(answers);
  return digest !== undefined && digest !== checkedDigest;
}

/** The answers file on alice and the digest the last check recorded (undefined: none, or unreadable). */
export async function readAnswersState(
  driver: Driver,
  instance: string,
): Promise<{ answers?: string; checked?: string }> {
  const alice = containerName(instance, 'alice');
  const read = async (path: string) => {
    const r = await driver.exec(alice, ['cat', path], { timeoutMs: 10000 }).catch(() => undefined);
    return r && r.exitCode === 0 ? r.stdout : undefined;
  };
  const [answers, marker] = await Promise.all([read(FILES.answers), read(CHECKED_PATH)]);
  let checked: string | undefined;
  try {
    checked = marker ? ((JSON.parse(marker) as { answers?: string }).answers ?? undefined) : undefined;
  } catch {
    checked = undefined;
  }
  return { answers, checked };
}

/** Records that `check` graded this answers file (best effort: a failure never fails the check). */
export async function recordChecked(driver: Driver, instance: string, answers: string | undefined): Promise<void> {
  const doc = JSON.stringify({ answers: answersDigest(answers) ?? null, checkedAt: new Date().toISOString() });
  await driver
    .exec(containerName(instance, 'alice'), ['sh', '-c', `mkdir -p /run/hurrynet && cat > ${CHECKED_PATH}`], {
      stdin: doc,
      timeoutMs: 10000,
    })
    .catch(() => undefined);
}

/** The last check's report, kept on alice so that the CLI and the browser page show the same one. */
export const REPORT_PATH = '/run/hurrynet/report.json';

/** Keeps a check's report on the instance (best effort, like recordChecked). */
export async function recordReport(driver: Driver, instance: string, report: Report): Promise<void> {
  await driver
    .exec(containerName(instance, 'alice'), ['sh', '-c', `mkdir -p /run/hurrynet && cat > ${REPORT_PATH}`], {
      stdin: JSON.stringify(report),
      timeoutMs: 10000,
    })
    .catch(() => undefined);
}

/** The last report kept on the instance, or undefined (none yet, or unreadable). */
export async function readReport(driver: Driver, instance: string): Promise<Report | undefined> {
  const r = await driver
    .exec(containerName(instance, 'alice'), ['cat', REPORT_PATH], { timeoutMs: 10000, maxOutputBytes: 4 << 20 })
    .catch(() => undefined);
  if (!r || r.exitCode !== 0) return undefined;
  try {
    const doc = JSON.parse(r.stdout) as Report;
    return Array.isArray(doc.results) && typeof doc.lab === 'string' ? doc : undefined;
  } catch {
    return undefined;
  }
}

/** What `lab N` does about the instance it was asked to use. */
export type StartDecision =
  /** Nothing runs there: start. */
  | 'start'
  /** The same lab (and variation) runs there and no --reset: say so, start nothing. */
  | 'same'
  /** Replace what runs there. */
  | 'replace'
  /** Ask first (a terminal): the running lab has unsaved answers. */
  | 'ask'
  /** Refuse (no terminal to ask on): the running lab has unsaved answers; --yes replaces anyway. */
  | 'refuse';

export interface StartSituation {
  /** What runs on the instance: a lab (id and seed), the free world (lab undefined), or nothing. */
  running?: { lab?: string; seed?: string };
  /** The lab asked for, and the seed when the learner gave --seed. */
  wanted: { lab: string; seed?: string };
  reset: boolean;
  yes: boolean;
  tty: boolean;
  unsaved: boolean;
}

export function decideStart(s: StartSituation): StartDecision {
  if (!s.running) return 'start';
  const same = s.running.lab === s.wanted.lab && (s.wanted.seed === undefined || s.running.seed === s.wanted.seed);
  if (same && !s.reset) return 'same';
  // --reset on the same lab is the learner's own "start over"; anything else asks before losing work.
  if (!s.unsaved || s.yes || (same && s.reset)) return 'replace';
  return s.tty ? 'ask' : 'refuse';
}

/** "lab 08 (mtu)", or "the free world" for an instance started with `up`. */
export function labName(lab: Pick<Lab, 'id' | 'slug'> | undefined): string {
  return lab ? `lab ${lab.id} (${lab.slug})` : 'the free world';
}

export function replacingMessage(running: string, wanted: string, instance: string): string {
  return `${running} is running on instance ${instance}: replacing it with ${wanted}`;
}

export function unsavedSentence(running: string, instance: string): string {
  return `${running} on instance ${instance} has answers in ${FILES.answers} on alice that changed after your last check`;
}

/** The y/N question on a terminal. */
export function replaceQuestion(running: string, wanted: string, instance: string): string {
  return `${unsavedSentence(running, instance)}; starting ${wanted} removes them. Replace it? [y/N] `;
}

/** The refusal without a terminal: what is at stake and the commands that go on. */
export function unsavedRefusal(
  running: string,
  wanted: string,
  instance: string,
  commands: { check: string; save: string; replace: string },
): string {
  return (
    `${unsavedSentence(running, instance)}, and starting ${wanted} would remove them.\n` +
    `  grade them first:   ${commands.check}\n` +
    `  or keep a copy:     ${commands.save}\n` +
    `  or replace anyway:  ${commands.replace}`
  );
}

export function alreadyRunningMessage(
  running: string,
  instance: string,
  commands: { shell: string; reset: string },
): string {
  return `${running} is already running on instance ${instance}.\n  open it:     ${commands.shell}\n  start over:  ${commands.reset}\n`;
}

/** Whether a reply to the y/N question means yes (anything else, an empty line too, is no). */
export function isYes(reply: string): boolean {
  return /^\s*y(es)?\s*$/i.test(reply);
}

/** Asks the question on stderr and reads one line from stdin. */
export async function askYesNo(
  question: string,
  input: NodeJS.ReadableStream = process.stdin,
  output: NodeJS.WritableStream = process.stderr,
): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input, output, terminal: false });
  try {
    return isYes(await rl.question(question));
  } finally {
    rl.close();
  }
}

/** A script's output as `lab --apply` shows it: its last lines indented, or all with verbose. */
export function scriptOutputSummary(node: string, output: string, verbose: boolean, keep = 5): string {
  const lines = output.replace(/\s+$/, '').split('\n');
  if (!output.trim()) return `  ${node}.sh printed nothing`;
  const shown = verbose ? lines : lines.slice(-keep);
  const hidden = lines.length - shown.length;
  return [
    `  ${node}.sh printed${hidden ? ` (last ${shown.length} of ${lines.length} lines; --verbose shows all)` : ''}:`,
    ...shown.map((l) => `    ${l}`),
  ].join('\n');
}
