// The vocabulary of grading: a Check is plain data plus one small async function that observes
// the world (through probes the learner cannot fake) and returns a Verdict with its evidence.

/** What was run, where, and what came back: shown to the learner for every check. */
export interface Evidence {
  /** Where it ran, e.g. "probe@alice" (clean binaries in alice's network namespace) or "web". */
  where: string;
  command: string;
  exitCode: number;
  output: string;
}

export interface Verdict {
  passed: boolean;
  /** One sentence: why it passed or failed, in the learner's terms. */
  reason: string;
  evidence: Evidence[];
}

/** A place to run commands: a node itself, or a clean probe sharing its network namespace. */
export interface Host {
  readonly where: string;
  run(command: string, timeoutMs?: number): Promise<Evidence>;
}

export interface CheckContext {
  instance: string;
  /** Variation of this learner's lab (from the seed). */
  vars: Readonly<Record<string, string | number>>;
  /** Parsed answers.yaml (from /root/answers.yaml on alice), or undefined when missing. */
  answers(): Promise<Answers>;
  /** Clean binaries of the project in the node's network namespace (a sidecar). */
  probe(node: string): Promise<Host>;
  /** The node itself (server-side evidence: logs, state files, configuration). */
  node(node: string): Host;
}

export type Answers = { ok: true; values: Record<string, unknown>; raw: string } | { ok: false; error: string; raw?: string };

export interface Check {
  id: string;
  title: string;
  points: number;
  /** Required checks decide the exit code; optional ones only add points. Default true. */
  required?: boolean;
  hint: string;
  /** How long a failing check is retried before it counts as failed (default 3 s). */
  deadlineMs?: number;
  run(ctx: CheckContext): Promise<Verdict>;
}

export interface CheckResult {
  id: string;
  title: string;
  points: number;
  earned: number;
  required: boolean;
  passed: boolean;
  reason: string;
  hint?: string;
  evidence: Evidence[];
  attempts: number;
  ms: number;
}

export interface Report {
  lab: string;
  title: string;
  instance: string;
  seed: string;
  score: number;
  maxScore: number;
  passed: boolean;
  results: CheckResult[];
  ms: number;
  startedAt: string;
}

export function pass(reason: string, ...evidence: Evidence[]): Verdict {
  return { passed: true, reason, evidence };
}

export function fail(reason: string, ...evidence: Evidence[]): Verdict {
  return { passed: false, reason, evidence };
}
