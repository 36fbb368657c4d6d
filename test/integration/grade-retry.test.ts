// Grader errors are never the learner's: a world that fails to start is thrown away and the
// submission graded again on a fresh instance (and the report says so), while a submission that
// stops a node of its own world is the learner's result and is not retried.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderClassTerminal, renderLearnerHtml } from '../../checks/class-report.js';
import { Driver } from '../../orchestrator/runtime/driver.js';
import { discover, gradeClass, type ClassResults } from '../../orchestrator/grading/grade.js';
import { findLab, type Lab } from '../../orchestrator/labs/lab.js';
import { driver } from './helpers.js';

const PREFIX = 't-gretry';
let lab: Lab;
let results: ClassResults;
let sabotaged = '';

/**
 * A real Driver that, the first time this test's web container is to start, removes it first: Docker
 * itself then refuses the start, inside the world's start, every time (a poller racing the start could
 * miss it on a slow machine, and the world then came up whole).
 */
class SabotagingDriver extends Driver {
  override async start(container: string): Promise<void> {
    if (!sabotaged && new RegExp(`^hurrynet-${PREFIX}-\\d+-\\d+-web$`).test(container)) {
      sabotaged = container;
      await super.removeContainer(container);
    }
    await super.start(container);
  }
}

beforeAll(async () => {
  lab = await findLab('1');
  const classDir = mkdtempSync(join(tmpdir(), 'hurrynet-retry-'));
  const add = (name: string, files: Record<string, string>) => {
    mkdirSync(join(classDir, name), { recursive: true });
    for (const [f, c] of Object.entries(files)) writeFileSync(join(classDir, name, f), c);
  };
  add('ada', { 'alice.sh': readFileSync(join(lab.dir, 'solution', 'alice.sh'), 'utf8') });
  const outDir = mkdtempSync(join(tmpdir(), 'hurrynet-retry-out-'));
  const first = await gradeClass(new SabotagingDriver(), lab, discover(classDir, lab), {
    jobs: 1,
    outDir,
    instancePrefix: PREFIX,
  });
  // A learner whose script stops alice (her init exits on TERM): their doing, graded as it stands.
  add('bo', { 'alice.sh': 'kill -TERM 1\nsleep 5\n' });
  const second = await gradeClass(
    driver,
    lab,
    discover(classDir, lab).filter((s) => s.id === 'bo'),
    { jobs: 1, outDir, instancePrefix: PREFIX },
  );
  results = { ...first, learners: [...first.learners, ...second.learners] };
}, 600_000);

afterAll(async () => {
  const left = (await driver.listContainers(Driver.projectLabels())).filter((c) =>
    c.name.startsWith(`hurrynet-${PREFIX}`),
  );
  await Promise.all(left.map((c) => driver.removeContainer(c.name)));
});

describe('grading retries what the grader spoiled', () => {
  it('retries a world that did not start and grades the submission in full, marking the retry', () => {
    expect(sabotaged).toMatch(new RegExp(`^hurrynet-${PREFIX}-1-1-web$`));
    const ada = results.learners.find((l) => l.id === 'ada');
    expect(ada?.status).toBe('graded');
    expect(ada?.score).toBe(ada?.maxScore);
    expect(ada?.retries).toHaveLength(1);
    expect(ada?.retries?.[0]?.cause).toMatch(/world did not start/);
    expect(renderClassTerminal(results)).toMatch(
      /ada\s+\S+\s+graded\s+all required checks pass \[retried 1x: grader\]/,
    );
    expect(renderLearnerHtml(results, ada as NonNullable<typeof ada>)).toMatch(
      /The grader spoiled one attempt and graded again on a fresh world/,
    );
  });
  it('does not retry a submission that stopped a node of its own world, and says it was the learner', () => {
    const bo = results.learners.find((l) => l.id === 'bo');
    expect(bo?.status).toBe('graded');
    expect(bo?.retries).toBeUndefined();
    expect(bo?.errorBy).toBe('learner');
    expect(bo?.error).toMatch(/alice.sh stopped the node alice itself[\s\S]*your submission stopped alice/);
    expect(bo?.checks.every((c) => c.status !== 'inconclusive')).toBe(true);
    expect(bo?.checks.some((c) => /alice stopped running after your submission/.test(c.reason))).toBe(true);
  });
  it('leaves nothing behind', async () => {
    const left = (await driver.listContainers(Driver.projectLabels())).filter((c) =>
      c.name.startsWith(`hurrynet-${PREFIX}`),
    );
    expect(left).toEqual([]);
  });
});
