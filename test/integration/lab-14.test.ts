// Lab 14 on a real engine: the untouched lab fails; a fake mail server on alice with an /etc/hosts
// entry, and a message sent from Bob's own network, fail the checks they should; the reference
// solution passes for two seeds with different faults.
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/runtime/engine.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder, type LabRun } from './lab-harness.js';
import { driver } from './helpers.js';

const I = 't-mail-it';
const LONG = 240_000;

afterAll(async () => {
  await stop(driver, I);
});

describe('lab 14: email', () => {
  let run: LabRun;

  it(
    "fails untouched, and fails a fake server on alice and a message sent from inside Bob's network",
    async () => {
      run = await start('14', I, 'seed-a');
      expect(run.vars.fault).toBe('relay-denied');
      const untouched = await grade(run);
      expect(failedIds(untouched), explain(untouched)).toEqual(['smtp-path', 'by-hand', 'attachment', 'broken-at']);
      // Cheats: a listener on alice answering SMTP behind an /etc/hosts entry, and the messages
      // delivered from web (inside Bob's VPC) rather than from Alice's network.
      const subject = String(run.vars.handSubject);
      await apply(
        run,
        submissionFolder({
          'alice.sh': [
            'echo "127.0.0.1 mail.bob.example" >> /etc/hosts',
            "(while true; do printf '220 fake\\r\\n250 2.1.5 Ok\\r\\n' | nc -l 25 -q 1; done) >/dev/null 2>&1 &",
            'printf "broken_at: mail\\n" > /root/answers.yaml',
          ].join('\n'),
          'mail.sh': [
            "postconf -e 'mydestination = bob.example, mail.bob.example, localhost' && postfix reload",
            'sleep 1',
            `printf 'Subject: ${subject}\\n\\nfrom inside\\n' | sendmail bob@bob.example`,
            'sleep 2',
          ].join('\n'),
        }),
      );
      const cheat = await grade(run);
      // The grader's own laptop ignores alice's hosts file: the path check passes on the real fix.
      expect(failedIds(cheat), explain(cheat)).toEqual(['by-hand', 'attachment']);
      expect(cheat.results.find((r) => r.id === 'by-hand')?.reason).toMatch(/sent from elsewhere/);
    },
    LONG,
  );

  for (const seed of ['seed-a', 'seed-d'])
    it(
      `passes with the reference solution (${seed})`,
      async () => {
        run = await start('14', I, seed);
        await apply(run, solutionDir(run));
        const report = await grade(run);
        expect(report.passed, explain(report)).toBe(true);
      },
      LONG,
    );
});
