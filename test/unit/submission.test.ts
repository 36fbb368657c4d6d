import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAnswers, readSubmission, runOrder, SubmissionError } from '../../orchestrator/labs/submission.js';

const NODES = ['alice', 'home', 'isp', 'dns', 'edge', 'web', 'ftp'];

function folder(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'hn-sub-'));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return dir;
}

function problems(dir: string, allowed = ['alice']): string {
  try {
    readSubmission(dir, allowed, NODES);
    return '';
  } catch (err) {
    expect(err).toBeInstanceOf(SubmissionError);
    return (err as Error).message;
  }
}

describe('submission folders', () => {
  it('reads scripts, file trees, answers and the learner file', () => {
    const dir = folder({
      'alice.sh': 'echo hi\n',
      'alice/etc/motd': 'hello\n',
      'answers.yaml': 'a: 1\n',
      'learner.yaml': 'id: s123\nseed: 42\n',
      'README.md': 'notes',
    });
    const plan = readSubmission(dir, ['alice'], NODES);
    expect(plan.scripts.map((s) => s.node)).toEqual(['alice']);
    expect(plan.trees[0]).toMatchObject({ node: 'alice', files: ['etc/motd'] });
    expect(plan.answers).toBe('a: 1\n');
    expect(plan.learner).toEqual({ id: 's123', seed: '42' });
  });
  it('rejects scripts for unknown nodes and for nodes the lab does not open', () => {
    expect(problems(folder({ 'bob.sh': 'x' }))).toMatch(/unknown node "bob"; the nodes are alice, home/);
    expect(problems(folder({ 'web.sh': 'x' }))).toMatch(/does not let you change \(allowed: alice\)/);
    expect(problems(folder({ 'web/etc/x': 'x' }))).toMatch(/folder web\/ changes node "web"/);
  });
  it('rejects links that could escape the folder, binary junk and unknown files', () => {
    const dir = folder({ 'alice/etc/ok': 'x' });
    symlinkSync('/etc/passwd', join(dir, 'alice', 'etc', 'passwd'));
    expect(problems(dir)).toMatch(/alice\/etc\/passwd is a symbolic link/);
    expect(problems(folder({ 'alice.sh': Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]) }))).toMatch(
      /alice.sh is not a text file/,
    );
    expect(problems(folder({ 'notes.docx': 'x' }))).toMatch(/notes.docx is not something hurrynet knows/);
  });
  it('says when the folder is missing', () => {
    expect(problems('/nonexistent/hurrynet')).toMatch(/does not exist/);
  });
});

describe('answers.yaml', () => {
  it('parses a mapping and lists missing keys', () => {
    expect(parseAnswers('a: 1\nb: x\n', ['a', 'b', 'c'])).toEqual({
      ok: true,
      values: { a: 1, b: 'x' },
      missing: ['c'],
    });
  });
  it('explains invalid YAML and a non-mapping', () => {
    const bad = parseAnswers('a: [1, 2\n', ['a']);
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatch(/not valid YAML/);
    const list = parseAnswers('- 1\n- 2\n', ['a']);
    expect(!list.ok && list.error).toMatch(/must be a mapping/);
  });
});

describe('script order', () => {
  const scripts = ['transit', 'alice', 'edge', 'isp', 'dns'].map((node) => ({ node }));
  it('runs scripts in name order by default', () => {
    expect(runOrder(scripts).map((s) => s.node)).toEqual(['alice', 'dns', 'edge', 'isp', 'transit']);
  });
  it("runs a lab's named nodes first, in its order, then the rest by name", () => {
    expect(runOrder(scripts, ['edge', 'transit', 'isp', 'alice']).map((s) => s.node)).toEqual([
      'edge',
      'transit',
      'isp',
      'alice',
      'dns',
    ]);
  });
});
