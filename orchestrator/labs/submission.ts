// A submission folder: <node>.sh scripts run as root on that node, <node>/ trees copied over the
// node's filesystem, answers.yaml for questions, learner.yaml for id and seed. Validation is pure;
// applying goes through the driver.
import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { SubmissionError } from '../errors.js';

export const MAX_SCRIPT_BYTES = 256 * 1024;
export const MAX_TOTAL_BYTES = 8 * 1024 * 1024;
export const MAX_FILES = 500;
export const ANSWERS = 'answers.yaml';
export const LEARNER = 'learner.yaml';
/** Files a learner may keep in the folder that hurrynet ignores. */
const IGNORED = /^(README(\.md|\.txt)?|NOTES(\.md|\.txt)?|\.gitkeep|\.DS_Store)$/i;

export interface SubmissionPlan {
  dir: string;
  scripts: { node: string; path: string; content: string }[];
  trees: { node: string; path: string; files: string[] }[];
  answers?: string;
  learner?: { id?: string; seed?: string };
}

export { SubmissionError };

function isText(buf: Buffer): boolean {
  if (buf.includes(0)) return false;
  // Invalid UTF-8 decodes to U+FFFD; treat that as binary junk.
  return !buf.toString('utf8').includes('\ufffd');
}

function walk(dir: string, root: string, problems: string[], out: string[]): void {
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    const st = lstatSync(full);
    const rel = relative(root, full);
    if (st.isSymbolicLink())
      problems.push(`${rel} is a symbolic link; links could point outside the folder, copy the file instead`);
    else if (st.isDirectory()) walk(full, root, problems, out);
    else if (st.isFile()) out.push(full);
    else problems.push(`${rel} is not a regular file`);
  }
}

/** Checks a submission folder against the lab's nodes without running anything. */
export function readSubmission(dir: string, allowedNodes: string[], allNodes: string[]): SubmissionPlan {
  const problems: string[] = [];
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new SubmissionError(dir, [`the folder does not exist`]);
  }
  if (!st.isDirectory()) throw new SubmissionError(dir, ['it is not a folder']);
  const plan: SubmissionPlan = { dir, scripts: [], trees: [] };
  const files: string[] = [];
  const nodeRule = (node: string, what: string) => {
    if (!allNodes.includes(node)) {
      problems.push(`${what} is for an unknown node "${node}"; the nodes are ${allNodes.join(', ')}`);
      return false;
    }
    if (!allowedNodes.includes(node)) {
      problems.push(
        `${what} changes node "${node}", which this lab does not let you change (allowed: ${allowedNodes.join(', ')})`,
      );
      return false;
    }
    return true;
  };
  for (const entry of readdirSync(dir).sort()) {
    const full = join(dir, entry);
    const est = lstatSync(full);
    if (est.isSymbolicLink()) {
      problems.push(`${entry} is a symbolic link; links could point outside the folder, copy the file instead`);
      continue;
    }
    if (IGNORED.test(entry)) continue;
    if (est.isFile() && entry.endsWith('.sh')) {
      const node = entry.slice(0, -3);
      if (!nodeRule(node, entry)) continue;
      const buf = readFileSync(full);
      if (buf.length > MAX_SCRIPT_BYTES) problems.push(`${entry} is larger than ${MAX_SCRIPT_BYTES / 1024} KiB`);
      else if (!isText(buf)) problems.push(`${entry} is not a text file (binary content); a script must be plain text`);
      else plan.scripts.push({ node, path: full, content: buf.toString('utf8') });
      files.push(full);
    } else if (est.isFile() && entry === ANSWERS) {
      const buf = readFileSync(full);
      if (!isText(buf)) problems.push(`${ANSWERS} is not a text file`);
      else plan.answers = buf.toString('utf8');
      files.push(full);
    } else if (est.isFile() && entry === LEARNER) {
      try {
        const doc = parse(readFileSync(full, 'utf8')) as { id?: unknown; seed?: unknown } | null;
        plan.learner = {
          id: doc?.id === undefined ? undefined : String(doc.id),
          seed: doc?.seed === undefined ? undefined : String(doc.seed),
        };
      } catch (err) {
        problems.push(`${LEARNER} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
      }
    } else if (est.isDirectory()) {
      if (!nodeRule(entry, `folder ${entry}/`)) continue;
      const tree: string[] = [];
      walk(full, dir, problems, tree);
      plan.trees.push({ node: entry, path: full, files: tree.map((f) => relative(full, f)) });
      files.push(...tree);
    } else {
      problems.push(`${entry} is not something hurrynet knows: use <node>.sh, <node>/, ${ANSWERS} or ${LEARNER}`);
    }
  }
  const total = files.reduce((s, f) => s + statSync(f).size, 0);
  if (files.length > MAX_FILES) problems.push(`too many files (${files.length}, at most ${MAX_FILES})`);
  if (total > MAX_TOTAL_BYTES)
    problems.push(`too large (${Math.round(total / 1024)} KiB, at most ${MAX_TOTAL_BYTES / 1024 / 1024} MiB)`);
  if (problems.length) throw new SubmissionError(dir, problems);
  return plan;
}

export type ParsedAnswers =
  { ok: true; values: Record<string, unknown>; missing: string[] } | { ok: false; error: string };

/** Parses answers.yaml: a mapping of question keys to values; lists the keys it lacks. */
export function parseAnswers(text: string, keys: string[]): ParsedAnswers {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    return { ok: false, error: `answers.yaml is not valid YAML: ${(err as Error).message.split('\n')[0]}` };
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return {
      ok: false,
      error: 'answers.yaml must be a mapping of question keys to answers, like "my_ip: 192.168.1.101"',
    };
  }
  const values = doc as Record<string, unknown>;
  const missing = keys.filter((k) => values[k] === undefined || values[k] === null || values[k] === '');
  return { ok: true, values, missing };
}

/** A submission's scripts in the order they run: `first` in its order, then the rest by name. */
export function runOrder<S extends { node: string }>(scripts: readonly S[], first: readonly string[] = []): S[] {
  const rank = (s: S) => (first.includes(s.node) ? first.indexOf(s.node) : first.length);
  return [...scripts].sort((a, b) => rank(a) - rank(b) || a.node.localeCompare(b.node));
}
