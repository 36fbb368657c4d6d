// Checks of the learner's answers.yaml against what the grader observes in the live world, so a
// copied or hard-coded answer fails when this learner's world differs.
import { fail, pass, type Answers, type Check, type CheckContext, type Evidence } from './types.js';

/** Canonical form for comparison: trimmed, lower case, single spaces; MACs with colons. */
export function normalizeAnswer(value: unknown): string {
  return String(value ?? '')
    .trim()
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(
      /^([0-9a-f]{2})[-.]?([0-9a-f]{2})[-:.]?([0-9a-f]{2})[-.]?([0-9a-f]{2})[-:.]?([0-9a-f]{2})[-.]?([0-9a-f]{2})$/,
      '$1:$2:$3:$4:$5:$6',
    );
}

export interface AnswerCheckSpec {
  id: string;
  title: string;
  points: number;
  key: string;
  /** Other keys judged together with this one, with fixed expected values. */
  alsoKeys?: Record<string, string>;
  hint: string;
  required?: boolean;
  /** The right answer as observed in the live world (undefined when it cannot be known). */
  expected(ctx: CheckContext): Promise<{ value?: string; evidence: Evidence[] }>;
  /** Custom comparison (default: normalized equality). */
  matches?(given: string, expected: string): boolean;
}

/** The learner's answers file as evidence. */
export function answersEvidence(answers: Answers): Evidence {
  return {
    where: 'alice',
    command: 'cat /root/answers.yaml',
    exitCode: answers.ok ? 0 : 1,
    output: answers.ok ? answers.raw : answers.error,
  };
}

export interface KeywordCheckSpec {
  id: string;
  title: string;
  points: number;
  key: string;
  hint: string;
  required?: boolean;
  /** Whether a free-text answer mentions what it must (the same for every learner). */
  test(answer: string): boolean;
  /** What is wrong when the test fails, in the learner's terms. */
  wrong: string;
}

/** An answer's text, or undefined when the key is missing or empty. */
function given(values: Record<string, unknown>, key: string): string | undefined {
  const v = values[key];
  return v === undefined || v === null || String(v).trim() === '' ? undefined : String(v);
}

/** A free-text answer judged by what it must mention. */
export function keywordCheck(spec: KeywordCheckSpec): Check {
  return {
    id: spec.id,
    title: spec.title,
    points: spec.points,
    required: spec.required,
    hint: spec.hint,
    deadlineMs: 1000,
    async run(ctx) {
      const answers = await ctx.answers();
      const file = answersEvidence(answers);
      if (!answers.ok) return fail(answers.error, file);
      const answer = given(answers.values, spec.key);
      if (answer === undefined) return fail(`answers.yaml misses "${spec.key}"`, file);
      if (!spec.test(answer)) return fail(`"${spec.key}": ${spec.wrong}`, file);
      return pass(`answered ${spec.key}`, file);
    },
  };
}

export function answerCheck(spec: AnswerCheckSpec): Check {
  return {
    id: spec.id,
    title: spec.title,
    points: spec.points,
    required: spec.required,
    hint: spec.hint,
    deadlineMs: 1500,
    async run(ctx) {
      const answers = await ctx.answers();
      const file = answersEvidence(answers);
      if (!answers.ok) return fail(answers.error, file);
      const { value, evidence } = await spec.expected(ctx);
      if (value === undefined)
        return fail(
          `the answer to "${spec.key}" cannot be judged yet: the world is not in the required state`,
          file,
          ...evidence,
        );
      const same = spec.matches ?? ((a: string, b: string) => normalizeAnswer(a) === normalizeAnswer(b));
      const expectedAll: Record<string, string> = { [spec.key]: value, ...spec.alsoKeys };
      for (const [key, want] of Object.entries(expectedAll)) {
        const answer = given(answers.values, key);
        if (answer === undefined) return fail(`answers.yaml misses "${key}"`, file);
        if (!same(answer, want)) return fail(`"${key}: ${answer}" is not what this world shows`, file, ...evidence);
      }
      return pass(`answered ${Object.keys(expectedAll).join(', ')} correctly`, file);
    },
  };
}
