// The results of grading a class: plain data shared by the grader (orchestrator/grading) and the
// reporters here, so that checks/ depends on nothing in orchestrator/.
import type { Report } from './types.js';

/**
 * graded: the learner's result. invalid: the submission was refused before anything ran.
 * inconclusive: graded, but some checks could not be observed even after retries (regrade it).
 * error: the grader could not grade it (see errorBy).
 */
export type LearnerStatus = 'graded' | 'invalid' | 'inconclusive' | 'error';

/** One earlier attempt at a submission that the grader threw away, and why (always the grader's). */
export interface Retry {
  attempt: number;
  cause: string;
}

export interface LearnerResult {
  id: string;
  folder: string;
  seed: string;
  status: LearnerStatus;
  score: number;
  maxScore: number;
  passed: boolean;
  error?: string;
  /** Whose problem `error` is: the grader's (infrastructure) or the learner's (their scripts). */
  errorBy?: 'grader' | 'learner';
  /** Attempts thrown away because the grader failed (a world that did not start, checks it could not observe). */
  retries?: Retry[];
  /** Content key: the same submission of the same lab version grades the same. */
  key: string;
  checks: Report['results'];
  /** Hint levels the checks show (grade --hints); --resume grades again when it differs. */
  hintLevel?: number;
  durations: { startMs: number; applyMs: number; checkMs: number; totalMs: number };
  gradedAt: string;
}

export interface ClassResults {
  lab: string;
  title: string;
  labVersion: string;
  generatedAt: string;
  shard?: string;
  learners: LearnerResult[];
}
