// Every error hurrynet explains to its user, in one place, with the one map from error to exit
// code. Modules throw these; the CLI prints the message and exits with exitCodeOf(err).

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  docker: 3,
  /** Nothing failed, but the grader could not observe everything (run the check again). */
  inconclusive: 4,
  interrupted: 130,
} as const;

/** The user asked for something that cannot be: a bad name, option or argument. */
export class UsageError extends Error {}

/** No Docker engine answers (or it refused us). */
export class DockerUnavailableError extends Error {}

/** The engine could not build a lab image (the engine's trouble, not the command's: doctor explains). */
export class ImageBuildError extends Error {
  constructor(
    readonly tag: string,
    reason: string,
  ) {
    super(`building ${tag} failed: ${reason}`);
  }
}

export class InstanceExistsError extends UsageError {}
export class NoSuchInstanceError extends UsageError {}
export class UnknownNodeError extends UsageError {}
export class UnknownLabError extends UsageError {}
/** A standby world's name is reserved for the standby machinery. */
export class StandbyNameError extends UsageError {}

export class SubmissionError extends UsageError {
  constructor(
    readonly dir: string,
    readonly problems: string[],
  ) {
    super(`submission ${dir} is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** The host could not be sealed from the lab bridges, and the command refuses to go on (grade). */
export class HostNotSealedError extends Error {
  constructor(readonly reason: string) {
    super(
      `the host is not sealed from the lab bridges: ${reason}.\n` +
        `A submission could reach this machine's own services from a lab. Run the grader as root on Linux ` +
        `(or see docs/seal.md), or pass --allow-unsealed to grade anyway.`,
    );
  }
}

/** A node of a starting world died or never said "ready". */
export class NodeStartError extends Error {
  constructor(
    readonly node: string,
    readonly reason: string,
    readonly lastLines: string,
  ) {
    super(`node ${node} ${reason}${lastLines ? `; its last output:\n${lastLines.replace(/^/gm, '    ')}` : ''}`);
  }
}

/** A learner's submission script failed: their result, not the grader's. */
export class ScriptFailedError extends Error {}

/** Ctrl-C (or SIGTERM) stopped the work; what it had started was removed. */
export class AbortedError extends Error {
  constructor() {
    super('interrupted');
  }
}

/** The exit code for an error that reached the command line. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof AbortedError) return EXIT.interrupted;
  if (err instanceof DockerUnavailableError) return EXIT.docker;
  if (err instanceof UsageError) return EXIT.usage;
  return EXIT.failure;
}
