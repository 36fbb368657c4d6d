// Checks of the learner's answers.yaml against what the grader observes in the live world, so a
// copied or hard-coded answer fails when this learner's world differs.
import { fail, pass, type Answers, type Check, type CheckContext, type Evidence, type Hints } from './types.js';

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
  hint: Hints;
  /**
   * What the answer is compared with, in the world's terms, for the reason of a wrong answer:
   * "the server that leased alice her address". Never the expected value itself.
   */
  about?: string;
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
  hint: Hints;
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

/** The fields every free-text answer check has. */
type FreeTextSpec = Pick<KeywordCheckSpec, 'id' | 'title' | 'points' | 'key' | 'hint' | 'required'>;

/** A free-text answer check: read answers.yaml, then judge the learner's text. */
function freeTextCheck(spec: FreeTextSpec, judge: (answer: string) => { failed: string } | { passed: string }): Check {
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
      const verdict = judge(answer);
      return 'failed' in verdict ? fail(verdict.failed, file) : pass(verdict.passed, file);
    },
  };
}

/** A free-text answer judged by what it must mention. */
export function keywordCheck(spec: KeywordCheckSpec): Check {
  return freeTextCheck(spec, (answer) =>
    spec.test(answer) ? { passed: `answered ${spec.key}` } : { failed: `"${spec.key}": ${spec.wrong}` },
  );
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
        // The learner's value is quoted as theirs, never restated as a fact about the world.
        if (!same(answer, want))
          return fail(
            `your ${key} (${JSON.stringify(answer.trim())}) is not ${key === spec.key && spec.about ? spec.about : `what the grader observes in this world for ${key}`}`,
            file,
            ...evidence,
          );
      }
      return pass(`answered ${Object.keys(expectedAll).join(', ')} correctly`, file);
    },
  };
}

/** One idea a free-text explanation must contain, with the words that express it. */
export interface Concept {
  /** The idea in the learner's terms, for the reason when it is missing ("what TCP does about a lost segment"). */
  idea: string;
  /** Any of these in the answer expresses it. */
  patterns: RegExp[];
}

export interface RubricCheckSpec {
  id: string;
  title: string;
  points: number;
  key: string;
  hint: Hints;
  required?: boolean;
  /** The ideas a good explanation links; `need` of them must be present (default: all). */
  concepts: Concept[];
  need?: number;
  /** Fewer words than this cannot explain anything (default 6). */
  minWords?: number;
}

/**
 * An answer that opens by saying the learner does not know: a guess and a keyword is not a reason.
 * Only the opening counts, because an explanation may say that a router "had no idea" of a flow.
 */
const HEDGE =
  /^\W*(i\s*(am|'m)\s+|i\s+have\s+|i\s+)?(no idea|don'?t know|do not know|dunno|not sure|idk|no clue|guess(ing)?|whatever|maybe)\b|\?\?/i;

/** The rubric's verdict on one answer: the ideas it expresses and the ones it lacks. Pure. */
export function judgeRubric(
  answer: string,
  spec: Pick<RubricCheckSpec, 'concepts' | 'need' | 'minWords'>,
): { ok: boolean; found: string[]; missing: string[]; why?: string } {
  const found = spec.concepts.filter((c) => c.patterns.some((p) => p.test(answer))).map((c) => c.idea);
  const missing = spec.concepts.map((c) => c.idea).filter((i) => !found.includes(i));
  const need = spec.need ?? spec.concepts.length;
  const words = answer.trim().split(/\s+/).filter(Boolean).length;
  if (HEDGE.test(answer))
    return { ok: false, found, missing, why: 'it says you are not sure: explain what you saw instead' };
  if (words < (spec.minWords ?? 6))
    return { ok: false, found, missing, why: 'a few words cannot link cause and effect: write a sentence or two' };
  if (found.length < need)
    return { ok: false, found, missing, why: `it does not say ${missing.slice(0, need - found.length).join(', or ')}` };
  return { ok: true, found, missing };
}

/** A free-text "why" answer judged against a small rubric of ideas, not one keyword. */
export function rubricCheck(spec: RubricCheckSpec): Check {
  return freeTextCheck(spec, (answer) => {
    const verdict = judgeRubric(answer, spec);
    return verdict.ok
      ? { passed: `your ${spec.key} explains it (${verdict.found.join('; ')})` }
      : { failed: `your "${spec.key}" does not explain it yet: ${verdict.why}` };
  });
}
