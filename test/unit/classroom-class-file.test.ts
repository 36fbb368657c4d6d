import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ClassFileError,
  INSTANCE_PREFIX,
  instanceOf,
  learnerIdProblem,
  loadClassFile,
  parseClassFile,
  resolveLab,
  type KnownLab,
} from '../../orchestrator/classroom/class-file.js';
import { UsageError } from '../../orchestrator/errors.js';

const known: KnownLab[] = [
  { id: '01', slug: 'hello' },
  { id: '03', slug: 'dns' },
  { id: '10', slug: 'nat' },
];

/** The problems parseClassFile reports for `text`, or fails the test when it accepts it. */
function problems(text: string, file = 'class.yaml'): string[] {
  try {
    parseClassFile(text, file, known);
  } catch (err) {
    expect(err).toBeInstanceOf(ClassFileError);
    expect(err).toBeInstanceOf(UsageError);
    const e = err as ClassFileError;
    expect(e.file).toBe(file);
    for (const p of e.problems) expect(e.message).toContain(p);
    return e.problems;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

describe('class.yaml parsing', () => {
  it('reads a valid class file: name, labs resolved in order, learners with optional seeds', () => {
    const spec = parseClassFile(
      [
        'name: Networks 101',
        'labs: [1, dns, 10-nat]',
        'learners:',
        '  - id: ada',
        '    name: Ada Lovelace',
        '  - { id: bob-2, name: "  Bob  ", seed: s.1_x-Y }',
        '  - id: cy',
        '',
      ].join('\n'),
      'class.yaml',
      known,
    );
    expect(spec).toEqual({
      name: 'Networks 101',
      labs: ['01', '03', '10'],
      learners: [
        { id: 'ada', name: 'Ada Lovelace' },
        { id: 'bob-2', name: 'Bob', seed: 's.1_x-Y' },
        { id: 'cy', name: 'cy' },
      ],
    });
    expect(spec.learners[0]).not.toHaveProperty('seed');
  });

  it('names the class "class" when it has no name, and accepts an empty list of learners', () => {
    expect(parseClassFile('labs: ["03"]\nlearners: []\n', 'c.yaml', known)).toEqual({
      name: 'class',
      labs: ['03'],
      learners: [],
    });
  });

  it('names the class "class" when its name is empty', () => {
    expect(parseClassFile('name:\nlabs: [1]\nlearners: []\n', 'c.yaml', known).name).toBe('class');
    expect(parseClassFile('name: "  "\nlabs: [1]\nlearners: []\n', 'c.yaml', known).name).toBe('class');
    expect(parseClassFile('name: 2026\nlabs: [1]\nlearners: []\n', 'c.yaml', known).name).toBe('2026');
  });

  it('keeps numeric seeds as text', () => {
    const spec = parseClassFile('labs: [1]\nlearners:\n  - { id: ada, seed: 42 }\n', 'c.yaml', known);
    expect(spec.learners[0]?.seed).toBe('42');
  });

  it('reports YAML syntax errors at their own line', () => {
    expect(problems('name: x\nlabs: [1]\nlearners:\n  - id: "ada"x\n  - id: b\n')).toEqual([
      'class.yaml:4: Unexpected scalar at node end',
    ]);
    expect(problems('name: x\nlabs: [1]\n\tlearners: []\n')).toEqual([
      'class.yaml:3: Tabs are not allowed as indentation',
    ]);
    // The parser notices an unclosed flow sequence where the next line starts.
    expect(problems('name: x\nlabs: [1\nlearners:\n  - id: ada\n')[0]).toMatch(/^class\.yaml:3: Flow sequence/);
  });

  it('reports duplicate keys at their line', () => {
    const p = problems('labs: [1]\nlearners: []\nlabs: [3]\n');
    expect(p[0]).toMatch(/^class\.yaml:3: .*unique/i);
  });

  it('refuses a document that is not a map', () => {
    expect(problems('- ada\n- bob\n')).toEqual(['class.yaml:1: expected a map with "labs:" and "learners:"']);
    expect(problems('')[0]).toMatch(/^class\.yaml:1: expected a map/);
    expect(problems('just text')[0]).toMatch(/^class\.yaml:1: expected a map/);
  });

  it('refuses unknown top-level keys, with the line', () => {
    const p = problems('labs: [1]\nlearners: []\nstudents: []\n');
    expect(p).toEqual(['class.yaml:3: unknown key "students" (expected name, labs, learners)']);
  });

  it('refuses a name that is not text', () => {
    expect(problems('name: [a, b]\nlabs: [1]\nlearners: []\n')).toEqual(['class.yaml:1: name must be text']);
  });

  it('refuses missing, empty or non-list labs', () => {
    expect(problems('learners: []\n')[0]).toMatch(/^class\.yaml:1: "labs:" must list the labs/);
    expect(problems('learners: []\nlabs: []\n')[0]).toMatch(/^class\.yaml:2: "labs:" must list/);
    expect(problems('learners: []\nlabs: dns\n')[0]).toMatch(/^class\.yaml:2: "labs:" must list/);
  });

  it('refuses unknown labs (listing the real ones) and labs listed twice', () => {
    const p = problems('labs:\n  - 1\n  - smtp\n  - "01"\n  - hello\nlearners: []\n');
    expect(p).toEqual([
      'class.yaml:3: unknown lab "smtp" (the labs are 01 hello, 03 dns, 10 nat)',
      'class.yaml:4: lab 01 is listed twice',
      'class.yaml:5: lab 01 is listed twice',
    ]);
  });

  it('refuses a missing or non-list learners', () => {
    expect(problems('labs: [1]\n')[0]).toMatch(/^class\.yaml:1: "learners:" must be a list/);
    expect(problems('labs: [1]\nlearners: ada\n')[0]).toMatch(/^class\.yaml:2: "learners:" must be a list/);
  });

  it('refuses learners that are not maps, or have unknown keys', () => {
    const p = problems('labs: [1]\nlearners:\n  - ada\n  - id: bob\n    email: b@x\n');
    expect(p).toEqual([
      'class.yaml:3: each learner is a map such as { id: ada, name: Ada Lovelace }',
      'class.yaml:5: unknown learner key "email" (expected id, name, seed)',
    ]);
  });

  it('refuses learners without an id, with bad ids, and duplicate ids', () => {
    const p = problems(
      [
        'labs: [1]',
        'learners:',
        '  - name: Nobody', // 3
        '  - id: Ada', // 4
        '  - id: 1ada', // 5
        '  - id: a_b', // 6
        '  - id: abcdefghijklmnopqrs', // 7 (19 characters)
        '  - id: ok', // 8
        '  - id: ok', // 9
        '  - id:', // 10
        '',
      ].join('\n'),
    );
    expect(p).toHaveLength(7);
    expect(p[0]).toBe('class.yaml:3: a learner has no id');
    expect(p[1]).toMatch(/^class\.yaml:4: learner id "Ada" must be 1-18 lowercase/);
    expect(p[2]).toMatch(/^class\.yaml:5: learner id "1ada"/);
    expect(p[3]).toMatch(/^class\.yaml:6: learner id "a_b"/);
    expect(p[4]).toMatch(/^class\.yaml:7: learner id "abcdefghijklmnopqrs"/);
    expect(p[5]).toBe('class.yaml:9: learner "ok" is listed twice');
    expect(p[6]).toMatch(/^class\.yaml:10: learner id ""/);
  });

  it('refuses ids, names and seeds of the wrong type', () => {
    const p = problems(
      [
        'labs: [1]',
        'learners:',
        '  - id: [ada]', // 3
        '  - { id: true }', // 4
        '  - { id: bob, name: { first: Bob } }', // 5
        '  - { id: cy, seed: [1, 2] }', // 6
        '',
      ].join('\n'),
    );
    expect(p).toEqual([
      'class.yaml:3: a learner id must be text, such as ada',
      'class.yaml:4: a learner id must be text, such as ada',
      'class.yaml:5: name of "bob" must be text',
      'class.yaml:6: seed of "cy" must be 1-64 letters, digits, dots, dashes or underscores',
    ]);
  });

  it('refuses bad seeds and over-long names', () => {
    const p = problems(
      [
        'labs: [1]',
        'learners:',
        '  - { id: ada, seed: "has space" }',
        `  - { id: bob, seed: ${'x'.repeat(65)} }`,
        '  - { id: cy, seed: "" }',
        '  - id: dee',
        '    seed:',
        `  - { id: eve, name: ${'n'.repeat(101)} }`,
        `  - { id: fay, seed: ${'x'.repeat(64)}, name: ${'n'.repeat(100)} }`,
        '',
      ].join('\n'),
    );
    expect(p).toEqual([
      'class.yaml:3: seed of "ada" must be 1-64 letters, digits, dots, dashes or underscores',
      'class.yaml:4: seed of "bob" must be 1-64 letters, digits, dots, dashes or underscores',
      'class.yaml:5: seed of "cy" must be 1-64 letters, digits, dots, dashes or underscores',
      'class.yaml:6: seed of "dee" must be 1-64 letters, digits, dots, dashes or underscores',
      'class.yaml:8: name of "eve" is longer than 100 characters',
    ]);
  });

  it('reports every problem at once, and the message names the file', () => {
    try {
      parseClassFile('labs: [1, smtp]\nlearners:\n  - id: Ada\n  - id: bob\n    seed: "a b"\n', 'x/c.yaml', known);
      expect.unreachable();
    } catch (err) {
      const e = err as ClassFileError;
      expect(e.problems).toHaveLength(3);
      expect(e.message).toMatch(/^x\/c\.yaml is not a valid class file:\n {2}- x\/c\.yaml:1: unknown lab "smtp"/);
    }
  });
});

describe('loadClassFile', () => {
  it('reads the file against the real lab registry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hn-class-'));
    const file = join(dir, 'class.yaml');
    writeFileSync(file, 'labs: [1]\nlearners:\n  - id: ada\n');
    const spec = await loadClassFile(file);
    expect(spec.labs).toEqual(['01']);
    expect(spec.learners).toEqual([{ id: 'ada', name: 'ada' }]);
  });
  it('says so when the file cannot be read', async () => {
    await expect(loadClassFile('/nonexistent/class.yaml')).rejects.toThrow(/cannot read the class file/);
  });
});

describe('labs, learners and instances', () => {
  it('resolves a lab by number, padded number, slug and folder name, case-insensitively', () => {
    for (const q of ['3', '03', '003', 'dns', 'DNS', ' dns ', '03-dns']) expect(resolveLab(q, known), q).toBe('03');
    expect(resolveLab('10', known)).toBe('10');
    expect(resolveLab('1', known)).toBe('01');
  });
  it('does not resolve unknown labs', () => {
    for (const q of ['', '2', '0', '3-dns', 'dn', 'smtp', '01-dns', '-1', '1.0'])
      expect(resolveLab(q, known), q).toBeUndefined();
    expect(resolveLab('1', [])).toBeUndefined();
  });
  it("names a learner's instance", () => {
    expect(instanceOf('ada')).toBe('class-ada');
    expect(INSTANCE_PREFIX).toBe('class-');
    // The longest id makes an instance name of at most 24 characters.
    expect(instanceOf('a'.repeat(18))).toHaveLength(24);
  });
  it('accepts well-formed learner ids and explains the others', () => {
    for (const id of ['a', 'ada', 'a-1', 'x2', 'a'.repeat(18)]) expect(learnerIdProblem(id), id).toBeUndefined();
    for (const id of ['', 'A', 'ada ', ' ada', '1a', '-a', 'a_b', 'a.b', 'ä', 'a'.repeat(19), 'ada\n'])
      expect(learnerIdProblem(id), id).toMatch(/must be 1-18 lowercase letters, digits or dashes/);
    expect(learnerIdProblem('Ada')).toContain('"Ada"');
    expect(learnerIdProblem('Ada')).toContain('class-<id>');
  });
  it("refuses the id of the teacher's own world", () => {
    expect(learnerIdProblem('teacher')).toMatch(/class-teacher is the teacher's own world/);
    expect(learnerIdProblem('teachers')).toBeUndefined();
  });
});
