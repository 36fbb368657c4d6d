// The vocabulary of grading: a Check is plain data plus one small async function that observes
// the world (through probes the learner cannot fake) and returns a Verdict with its evidence.

/** What was run, where, and what came back: shown to the learner for every check. */
export interface Evidence {
  /** Where it ran, e.g. "probe@alice" (clean binaries in alice's network namespace) or "web". */
  where: string;
  command: string;
  exitCode: number;
  output: string;
  /**
   * Set when the grader itself could not make this observation (its own time limit, a sidecar
   * that did not start, a Docker API error). Such evidence says nothing about the learner's work.
   */
  graderError?: string;
}

export interface Verdict {
  passed: boolean;
  /**
   * The grader could not observe what the check needs (see Evidence.graderError). An inconclusive
   * verdict is retried and, if it stays so, reported as the grader's problem, never the learner's.
   */
  inconclusive?: boolean;
  /** One sentence: why it passed or failed, in the learner's terms. */
  reason: string;
  evidence: Evidence[];
}

/** A place to run commands: a node itself, or a clean probe sharing its network namespace. */
export interface Host {
  readonly where: string;
  run(command: string, timeoutMs?: number): Promise<Evidence>;
}

/** A grader-owned capture started with the lab's world (LabDefinition.witnesses): a Host in it, and what it saw. */
export interface Witness extends Host {
  /**
   * Everything the witness has kept since the lab started, as a classic pcap file (empty before
   * its first packet). Throws when it cannot be read: the grader's problem. (A Uint8Array, not a
   * Buffer: the browser page's build reads this file too.)
   */
  pcap(): Promise<Uint8Array>;
}

export interface CheckContext {
  instance: string;
  /**
   * How much slower than a quiet machine this one answers (1 = quiet, at most 4). Host.run already
   * scales its time limits by it; a check that waits on its own clock should too.
   */
  timeScale: number;
  /** Variation of this learner's lab (from the seed). */
  vars: Readonly<Record<string, string | number>>;
  /** Parsed answers.yaml (from /root/answers.yaml on alice), or undefined when missing. */
  answers(): Promise<Answers>;
  /** Clean binaries of the project in the node's network namespace (a sidecar). */
  probe(node: string): Promise<Host>;
  /**
   * Clean binaries of the node's own image in its network and process namespaces, with the node's
   * capabilities and no more: it talks to the node's daemons (BIRD's control socket through
   * /proc/PID/root) and checks which program they run, with nothing the learner could replace.
   */
  inspect(node: string): Promise<Host>;
  /** The node itself (server-side evidence: logs, state files, configuration). */
  node(node: string): Host;
  /**
   * A fresh machine the grader attaches to a link: its own network namespace, the project's
   * binaries, the link's spare address and a default route via the link's router (or `gateway`).
   * Use it for claims about the network ("a new laptop on Alice's LAN reaches Bob"), which must
   * not depend on anything the learner set on alice herself.
   */
  fresh(link: string, opts?: { gateway?: string }): Promise<Host>;
  /**
   * Runs `probe` while the grader captures on every interface of every node, and says where the
   * packets it sent stopped and why (the journey's matching and diagnosis). The runner uses it for
   * a failed check's `trace`; contexts without captures (unit tests) leave it out. Its evidence
   * never carries graderError: a trace only explains a verdict, it does not make one.
   */
  trace?(probe: () => Promise<unknown>): Promise<Evidence>;
  /**
   * The lab's witness on a node (see LabDefinition.witnesses), or undefined when none runs there
   * (it failed to start or died): a check then has no evidence and must say inconclusive.
   */
  witness(node: string): Promise<Witness | undefined>;
}

export type Answers =
  { ok: true; values: Record<string, unknown>; raw: string } | { ok: false; error: string; raw?: string };

/**
 * A check's hints in three levels, each revealed only when asked for (`check --hint N`): first where
 * to look, then which tool or file shows it, then the fix. Hints teach: level 1 never gives the answer.
 */
export type Hints = readonly [look: string, tool: string, fix: string];

/** What each hint level offers, for the report's "--hint N shows …" line. */
export const HINT_LEVEL_NAMES = ['where to look', 'which tool or file', 'the fix'] as const;
export const MAX_HINT_LEVEL = 3;
/** The level `check` shows unless asked for more. */
export const DEFAULT_HINT_LEVEL = 1;

export interface Check {
  id: string;
  title: string;
  points: number;
  /** Required checks decide the exit code; optional ones only add points. Default true. */
  required?: boolean;
  hint: Hints;
  /** How long a failing check is retried before it counts as failed (default 3 s). */
  deadlineMs?: number;
  run(ctx: CheckContext): Promise<Verdict>;
  /**
   * For a reachability check: the probe to send once more, under the grader's captures, after the
   * check has failed, so that its evidence says where the packets stopped and why.
   */
  trace?(ctx: CheckContext): Promise<unknown>;
}

/** passed and failed are the learner's; inconclusive means the grader could not observe. */
export type CheckStatus = 'passed' | 'failed' | 'inconclusive';

export interface CheckResult {
  id: string;
  title: string;
  points: number;
  earned: number;
  required: boolean;
  passed: boolean;
  status: CheckStatus;
  reason: string;
  /** The hint levels shown for a failed check, level 1 first (absent on a pass, or at level 0). */
  hints?: string[];
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
  /** Ids of checks the grader could not observe: the score is not final, run the check again. */
  inconclusive: string[];
  /** The time scale the run used (see CheckContext.timeScale). */
  timeScale?: number;
  /** How many hint levels a failed check shows in this report (0 to MAX_HINT_LEVEL). */
  hintLevel?: number;
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

/** The grader could not observe: retried, and never shown as the learner's failure. */
export function inconclusive(reason: string, ...evidence: Evidence[]): Verdict {
  return { passed: false, inconclusive: true, reason, evidence };
}

/** An observation the grader could not make, as evidence (see Evidence.graderError). */
export function graderFailure(where: string, command: string, error: string): Evidence {
  return { where, command, exitCode: -1, output: error, graderError: error };
}
