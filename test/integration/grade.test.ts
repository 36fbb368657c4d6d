// Batch grading on the real engine with a generated class: correct, partial, empty, malformed and
// malicious submissions each get the right score or the right error; parallel equals sequential;
// nothing is left running; the reports are valid JUnit and an HTML page Chromium renders.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findLab, type Lab } from '../../orchestrator/labs/lab.js';
import { discover, gradeClass, type ClassResults, type LearnerResult } from '../../orchestrator/grading/grade.js';
import { projectRoot } from '../../orchestrator/runtime/paths.js';
import { cli, driver } from './helpers.js';
import { Driver } from '../../orchestrator/runtime/driver.js';

let lab: Lab;
let classDir: string;
let parallel: ClassResults;
let outDir: string;

function learner(results: ClassResults, id: string): LearnerResult {
  const l = results.learners.find((x) => x.id === id);
  if (!l) throw new Error(`no result for ${id}`);
  return l;
}

async function projectContainers(prefix: string): Promise<number> {
  return (await driver.listContainers(Driver.projectLabels())).filter((c) => c.name.startsWith(`hurrynet-${prefix}`))
    .length;
}

beforeAll(async () => {
  lab = await findLab('1');
  classDir = mkdtempSync(join(tmpdir(), 'hurrynet-class-'));
  const add = (name: string, files: Record<string, string>) => {
    mkdirSync(join(classDir, name), { recursive: true });
    for (const [f, c] of Object.entries(files)) writeFileSync(join(classDir, name, f), c);
  };
  const solution = readFileSync(join(lab.dir, 'solution', 'alice.sh'), 'utf8');
  add('correct', { 'alice.sh': solution, 'learner.yaml': 'id: ada\n' });
  // Creates the note but stops before the PUT, the DELETE and the answers.
  add('partial', { 'alice.sh': solution.split('curl -sS -f -X PUT')[0] as string });
  add('empty', {});
  add('malformed', { 'web.sh': 'rm -rf /srv/web/data\n', 'notes.docx': 'x' });
  add('forkbomb', { 'alice.sh': 'bomb() { bomb | bomb & }; bomb\n' });
  add('endless', { 'alice.sh': 'while :; do :; done\n' });
  // Looks for a way out of the lab without sending a packet anywhere: the Docker socket, a route
  // to the host's networks. Exits 0 only when it finds none. Then fakes curl's output.
  add('escape-and-fake', {
    'alice.sh': [
      'for s in /var/run/docker.sock /run/docker.sock; do test -e "$s" && { echo "found $s"; exit 3; }; done',
      // Alice's only routes are the lab's: her link and the home router as default gateway.
      'ip -4 route show | grep -vE "^(default via 192\\.168\\.1\\.1 |192\\.168\\.1\\.0/24 )" && { echo "a route out of the lab"; exit 4; }',
      'ls /sys/class/net | grep -vxE "lo|lan" && { echo "an interface out of the lab"; exit 5; }',
      'printf "#!/bin/sh\\necho HTTP/1.1 201 Created\\n" > /usr/local/bin/curl; chmod +x /usr/local/bin/curl',
      'printf "created_id: 3\\npost_status: 201\\ndelete_status: 204\\n" > /root/answers.yaml',
    ].join('\n'),
  });
  outDir = mkdtempSync(join(tmpdir(), 'hurrynet-grades-'));
  parallel = await gradeClass(driver, lab, discover(classDir, lab), {
    jobs: 3,
    outDir,
    scriptTimeoutSeconds: 5,
    cpusPerNode: 1,
    instancePrefix: 't-gp',
  });
}, 600_000);

describe('grading a class', () => {
  it('gives each submission the right score or the right error', () => {
    const max = learner(parallel, 'ada').maxScore;
    expect(learner(parallel, 'ada')).toMatchObject({ status: 'graded', score: max, passed: true });
    expect(learner(parallel, 'partial')).toMatchObject({ status: 'graded', score: 3, passed: false });
    expect(learner(parallel, 'empty')).toMatchObject({ status: 'graded', score: 1, passed: false });
    const malformed = learner(parallel, 'malformed');
    expect(malformed.status).toBe('invalid');
    expect(malformed.error).toMatch(/web.sh changes node "web"/);
    expect(malformed.error).toMatch(/notes.docx is not something hurrynet knows/);
    // The fork bomb's script returns at once (its children run on, stopped by the pids limit);
    // the endless loop is killed at the time limit. Both are graded like an empty submission.
    for (const id of ['forkbomb', 'endless']) {
      const r = learner(parallel, id);
      expect(r.status, id).toBe('graded');
      expect(r.score, id).toBe(1);
    }
    expect(learner(parallel, 'endless').error).toMatch(/did not finish within 5 s and was stopped/);
    const escape = learner(parallel, 'escape-and-fake');
    expect(escape.error).toBeUndefined(); // found no socket and no route out
    expect(escape.score).toBe(1);
  });

  it('grades the same in sequence as in parallel', async () => {
    const sequential = await gradeClass(driver, lab, discover(classDir, lab), {
      jobs: 1,
      outDir: mkdtempSync(join(tmpdir(), 'hurrynet-grades-seq-')),
      scriptTimeoutSeconds: 5,
      cpusPerNode: 1,
      instancePrefix: 't-gs',
    });
    expect(sequential.learners.map((l) => [l.id, l.status, l.score])).toEqual(
      parallel.learners.map((l) => [l.id, l.status, l.score]),
    );
  }, 600_000);

  it('leaves nothing running', async () => {
    expect(await projectContainers('t-gp')).toBe(0);
    expect(await projectContainers('t-gs')).toBe(0);
    const nets = await driver.listNetworks(Driver.projectLabels());
    expect(nets.filter((n) => /^hurrynet-t-g[ps]/.test(n.name))).toEqual([]);
  });

  it('resumes: unchanged submissions are not graded again', async () => {
    const again = await gradeClass(driver, lab, discover(classDir, lab), {
      jobs: 2,
      outDir,
      resume: true,
      instancePrefix: 't-gr',
    });
    expect(again.learners.map((l) => l.gradedAt)).toEqual(parallel.learners.map((l) => l.gradedAt));
  });
});

describe('the grade command and its reports', () => {
  let out: string;
  beforeAll(async () => {
    // Two shards through the CLI, then merged: the documented way to spread a class.
    const small = mkdtempSync(join(tmpdir(), 'hurrynet-class-small-'));
    for (const id of ['correct', 'empty', 'malformed'])
      cpSync(join(classDir, id), join(small, id), { recursive: true });
    out = mkdtempSync(join(tmpdir(), 'hurrynet-grade-cli-'));
    for (const shard of ['1/2', '2/2']) {
      const r = await cli([
        'grade',
        '--lab',
        '1',
        small,
        '--out',
        join(out, shard.replace('/', 'of')),
        '--shard',
        shard,
        '--jobs',
        '2',
      ]);
      expect(r.code, r.stderr).toBe(0);
    }
    const merged = await cli([
      'grade',
      '--lab',
      '1',
      '--merge',
      join(out, '1of2'),
      join(out, '2of2'),
      '--out',
      join(out, 'all'),
    ]);
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stdout).toMatch(/3 submissions/);
  }, 600_000);

  it('writes results.json with every learner, CSV, JUnit per learner and HTML', () => {
    const all = join(out, 'all');
    const results = JSON.parse(readFileSync(join(all, 'results.json'), 'utf8')) as ClassResults;
    expect(results.learners.map((l) => l.id)).toEqual(['ada', 'empty', 'malformed']);
    const ada = results.learners[0] as LearnerResult;
    expect(ada.checks[0]).toMatchObject({ points: expect.any(Number), passed: true });
    expect(ada.checks[0]).toHaveProperty('evidence');
    expect(ada.durations.totalMs).toBeGreaterThan(0);
    expect(readFileSync(join(all, 'grades.csv'), 'utf8').split('\n')[0]).toMatch(
      /^learner,score,max_score,percent,status/,
    );
    for (const id of ['ada', 'empty', 'malformed']) {
      expect(existsSync(join(all, 'learners', `${id}.html`))).toBe(true);
      expect(existsSync(join(all, 'junit', `${id}.xml`))).toBe(true);
    }
  });

  it('writes JUnit XML that validates against the JUnit schema', () => {
    const dir = join(out, 'all', 'junit');
    const xsd = join(projectRoot(), 'test', 'fixtures', 'junit.xsd');
    const files = ['ada', 'empty', 'malformed'].map((id) => join(dir, `${id}.xml`));
    const r = spawnSync('xmllint', ['--noout', '--schema', xsd, ...files], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/malformed\.xml validates/);
  });

  it('renders the class overview in headless Chromium', () => {
    const page = join(out, 'all', 'index.html');
    const dom = execFileSync(
      'chromium',
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${mkdtempSync(join(tmpdir(), 'hn-chromium-'))}`,
        '--dump-dom',
        `file://${page}`,
      ],
      { encoding: 'utf8', timeout: 60000, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    expect(dom).toMatch(/<section id="overview">/);
    expect(dom).toMatch(/3<\/b>submissions/);
    expect(dom).toMatch(/Score distribution/);
    expect(dom).toMatch(/href="learners\/ada\.html"/);
  });
});
