// Lab 01 on a real engine: untouched it fails, faking it on alice fails, the handout's example
// answers and a fake front page behind a redirect fail, the reference passes for two learners and
// its answers do not transfer.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/runtime/engine.js';
import { findLab, varsFor } from '../../orchestrator/labs/lab.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder } from './lab-harness.js';
import { driver, sh } from './helpers.js';
import type { Report } from '../../checks/types.js';

const I = 't-lab01';
const reason = (r: Report, id: string) => r.results.find((x) => x.id === id)?.reason ?? '';

afterAll(async () => {
  await stop(driver, I);
});

describe('lab 01: client and server', () => {
  it(
    'fails untouched: nothing was created, renamed or deleted, and there are no answers',
    { timeout: 300_000 },
    async () => {
      const run = await start('1', I, 'seed-a');
      const report = await grade(run);
      expect(report.passed).toBe(false);
      expect(failedIds(report)).toEqual(['create', 'update', 'delete', 'answer-created-id', 'answer-statuses']);
      expect(report.results.find((r) => r.id === 'reach')?.passed).toBe(true);
      expect(reason(report, 'reach')).toMatch(/Bob's access log shows the request arriving from 203\.0\.113\.5/);
      // check shows level 1 (where to look) by default: never the command that does the work.
      const hints = report.results.find((r) => r.id === 'create')?.hints ?? [];
      expect(hints).toHaveLength(1);
      expect(hints[0]).toMatch(/\/api\/notes/);
      expect(hints[0]).not.toMatch(/curl -i -X POST/);
      // Bob's server has been counting for a while: the next id is not a fresh server's 3.
      const next = (
        await sh(I, 'web', 'node -e \'console.log(require("/srv/web/data/notes.json").nextId)\'')
      ).stdout.trim();
      expect(Number(next)).toBeGreaterThanOrEqual(100);
    },
  );

  it(
    'answers a method a notes URL does not take with 405 and the methods it takes in Allow, seen from alice',
    { timeout: 300_000 },
    async () => {
      await start('1', I, 'seed-a');
      const ask = async (method: string, path: string) => {
        // curl -X HEAD would wait for a body that never comes: -I sends a HEAD.
        const how = method === 'HEAD' ? '-I' : `-i -X ${method}`;
        const r = await sh(I, 'alice', `curl -sS -m 5 ${how} http://web.bob.example${path}`);
        const status = /^HTTP\/1\.1 (\d{3})/.exec(r.stdout)?.[1];
        const allow = /^Allow: (.*?)\r?$/im.exec(r.stdout)?.[1];
        return { status, allow, out: r.stdout };
      };
      for (const method of ['PATCH', 'POST']) {
        const r = await ask(method, '/api/notes/1');
        expect(r.status, r.out).toBe('405');
        expect(r.allow, r.out).toBe('GET, HEAD, PUT, DELETE');
      }
      for (const method of ['PUT', 'DELETE', 'PATCH']) {
        const r = await ask(method, '/api/notes');
        expect(r.status, r.out).toBe('405');
        expect(r.allow, r.out).toBe('GET, HEAD, POST');
      }
      // What the resource takes still works, and a path that is no resource stays 404.
      expect((await ask('GET', '/api/notes/1')).status).toBe('200');
      expect((await ask('HEAD', '/api/notes')).status).toBe('200');
      const nowhere = await ask('PATCH', '/api/nothing');
      expect(nowhere.status, nowhere.out).toBe('404');
      expect(nowhere.allow).toBeUndefined();
      expect((await ask('GET', '/api/notes/1/more')).status).toBe('404');
      // The note a refused PATCH named is unchanged, and Bob's log records the 405.
      const state = await sh(I, 'web', 'cat /srv/web/data/notes.json');
      expect((JSON.parse(state.stdout) as { items: { id: number }[] }).items.map((n) => n.id)).toEqual([1, 2]);
      const log = await sh(
        I,
        'web',
        'grep -c \'"method":"PATCH","path":"/api/notes/1","status":405\' /var/log/web/access.log',
      );
      expect(log.stdout.trim()).toBe('1');
    },
  );

  it(
    'fails a faked submission: a replaced curl on alice and hard-coded answers change nothing on the server',
    { timeout: 300_000 },
    async () => {
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
    },
  );

  it(
    "fails the handout's example answers after real requests, and a fake front page behind a redirect",
    { timeout: 300_000 },
    async () => {
      const run = await start('1', I, 'seed-a');
      // The real work, done with curl, but the answers copied from the handout and its hints: the id
      // a fresh server would give (3, the handout's old example) and the two codes every learner
      // sees. Before, this passed whenever the POST was the server's third note. Then a root learner
      // answers Bob's front page herself: a redirect on her laptop to a program of her own.
      const solution = readFileSync(join(solutionDir(run), 'alice.sh'), 'utf8');
      await apply(
        run,
        submissionFolder({
          'alice.sh': [
            'set -e',
            `cat > /tmp/solution.sh <<'SOLUTION'\n${solution}SOLUTION`,
            'bash /tmp/solution.sh',
            "printf 'created_id: 3\\npost_status: 201\\ndelete_status: 204\\n' > /root/answers.yaml",
            'mkdir -p /tmp/www && echo "Hello from Bob\'s web server (web.bob.example)." > /tmp/www/index.html',
            'cd /tmp/www && setsid -f python3 -m http.server 8080 >/dev/null 2>&1 </dev/null',
            'for i in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:8080/ && break; sleep 0.1; done',
            'iptables -t nat -A OUTPUT -d 198.51.100.80 -p tcp --dport 80 -j REDIRECT --to-ports 8080',
          ].join('\n'),
        }),
      );
      const report = await grade(run);
      expect(failedIds(report), explain(report)).toEqual(['reach', 'answer-created-id', 'answer-statuses']);
      expect(reason(report, 'reach')).toMatch(
        /not by Bob's server: his access log has no such request .*nat table sends the request to a program of hers: -A OUTPUT -d 198\.51\.100\.80\/32 -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 8080/,
      );
      expect(reason(report, 'answer-created-id')).toMatch(
        /your created_id \("3"\) is not the id Bob's server gave the note/,
      );
      expect(reason(report, 'answer-statuses')).toMatch(
        /the status codes are right, but they count only together with the id your POST got/,
      );
    },
  );

  it(
    'passes the reference solution, for two different learners, and their ids do not transfer',
    { timeout: 300_000 },
    async () => {
      const answers: string[] = [];
      for (const seed of ['seed-a', 'seed-b']) {
        const run = await start('client-server', I, seed);
        await apply(run, solutionDir(run));
        const report = await grade(run);
        expect(report.passed, explain(report)).toBe(true);
        expect(report.score).toBe(report.maxScore);
        answers.push((await sh(I, 'alice', 'cat /root/answers.yaml')).stdout);
      }
      // seed-b hands in seed-a's answers: another world, another counter.
      const [a, b] = answers as [string, string];
      expect(a.match(/^created_id: \d+$/m)?.[0]).not.toBe(b.match(/^created_id: \d+$/m)?.[0]);
      await sh(I, 'alice', `cat > /root/answers.yaml <<'EOF'\n${a}EOF`);
      const lab = await findLab('1');
      const copied = await grade({ lab, instance: I, seed: 'seed-b', vars: varsFor(lab, 'seed-b') });
      expect(failedIds(copied), explain(copied)).toEqual(['answer-created-id', 'answer-statuses']);
    },
  );
});
