// Lab 01 on a real engine: untouched it fails, faking it on alice fails, the reference passes.
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/engine.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder } from './lab-harness.js';
import { driver } from './helpers.js';

const I = 't-lab01';

afterAll(async () => {
  await stop(driver, I);
});

describe('lab 01: client and server', () => {
  it('fails untouched: nothing was created, renamed or deleted, and there are no answers', async () => {
    const run = await start('1', I, 'seed-a');
    const report = await grade(run);
    expect(report.passed).toBe(false);
    expect(failedIds(report)).toEqual(['create', 'update', 'delete', 'answer-created-id', 'answer-statuses']);
    expect(report.results.find((r) => r.id === 'reach')?.passed).toBe(true);
    expect(report.results.find((r) => r.id === 'create')?.hint).toMatch(/curl -i -X POST/);
  });

  it('fails a faked submission: a replaced curl on alice and hard-coded answers change nothing on the server', async () => {
    const run = await start('1', I, 'seed-a');
    const fake = submissionFolder({
      'alice.sh': [
        'cat > /usr/local/bin/curl <<"EOF"',
        '#!/bin/sh',
        'echo "HTTP/1.1 201 Created"; echo "{\\"id\\": 3}"',
        'EOF',
        'chmod +x /usr/local/bin/curl',
        'curl -X POST http://web.bob.example/api/notes',
      ].join('\n'),
      'answers.yaml': 'created_id: 3\npost_status: 201\ndelete_status: 204\n',
    });
    await apply(run, fake);
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(false);
    expect(failedIds(report)).toEqual(expect.arrayContaining(['create', 'update', 'delete', 'answer-created-id']));
  });

  it('passes the reference solution, for two different learners', async () => {
    for (const seed of ['seed-a', 'seed-b']) {
      const run = await start('client-server', I, seed);
      await apply(run, solutionDir(run));
      const report = await grade(run);
      expect(report.passed, explain(report)).toBe(true);
      expect(report.score).toBe(report.maxScore);
    }
  });
});
