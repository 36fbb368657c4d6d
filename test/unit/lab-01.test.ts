// Lab 01 without Docker: the variation, the task card, and the start that makes the created id
// this world's own.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findLab, varsFor } from '../../orchestrator/labs/lab.js';
import { labChecks, labWorld } from '../../orchestrator/labs/labrun.js';
import lab, { BOB_NOTES, FIRST_ID_MAX, FIRST_ID_MIN } from '../../labs/01-client-server/lab.js';
import { FILES } from '../../orchestrator/world/files.js';

const registered = await findLab('1');

const seeds = Array.from({ length: 100 }, (_, i) => `learner-${i}`);

describe('lab 01', () => {
  it('is deterministic per seed and differs across seeds', () => {
    expect(varsFor(lab, 'a')).toEqual(varsFor(lab, 'a'));
    expect(new Set(seeds.map((s) => varsFor(lab, s).title)).size).toBeGreaterThan(50);
    for (const s of seeds) {
      const v = varsFor(lab, s);
      expect([v.updateId, v.deleteId].sort()).toEqual([...BOB_NOTES]);
    }
  });

  it('prints the task but never the id the server will give', () => {
    for (const s of seeds.slice(0, 20)) {
      const card = lab.task?.(varsFor(lab, s)) ?? {};
      expect(Object.keys(card)).toEqual(['create_title', 'create_body', 'rename_note', 'rename_to', 'delete_note']);
      // Its numbers (Bob's notes 1 and 2, a two-digit title) are all below the first id drawn.
      for (const n of Object.values(card).join(' ').match(/\d+/g) ?? []) expect(Number(n)).toBeLessThan(FIRST_ID_MIN);
    }
  });

  it("moves Bob's counter well past a fresh server's 3, and waits for the server to read it (bash, a stand-in server)", () => {
    const v = varsFor(lab, 'x');
    const faults = lab.faults(v, labWorld(registered, v));
    expect(faults.map((f) => f.node)).toEqual(['web']);
    const script = faults[0]?.script ?? '';
    expect(script).toContain(`shuf -i ${FIRST_ID_MIN}-${FIRST_ID_MAX} -n 1`);
    expect(FIRST_ID_MIN).toBeGreaterThan(3);
    // The real script on a notes file as the server writes it, its paths moved into a temp dir;
    // the stand-in server answers SIGHUP as server.js does, by reading the file and logging it.
    const dir = mkdtempSync(join(tmpdir(), 'hn-lab01-'));
    try {
      const notes = join(dir, 'notes.json');
      const log = join(dir, 'server.log');
      writeFileSync(notes, JSON.stringify({ nextId: 3, items: [{ id: 1, title: 'hello', body: 'x' }] }, null, 2));
      writeFileSync(log, 'bob-web listening on 80\n');
      const standIn = [
        'pgrep() { echo 4242; }',
        `kill() { [ "$1" = -HUP ] && [ "$2" = 4242 ] && echo "notes reloaded: next id $(sed -n 's/^  "nextId": \\([0-9]*\\),$/\\1/p' ${notes})" >> ${log}; }`,
      ].join('\n');
      const moved = script.replaceAll(FILES.webNotes, notes).replaceAll(`${FILES.webLogDir}/server.log`, log);
      execFileSync('bash', ['-ec', `${standIn}\n${moved}`]);
      const next = (JSON.parse(readFileSync(notes, 'utf8')) as { nextId: number; items: unknown[] }).nextId;
      expect(next).toBeGreaterThanOrEqual(FIRST_ID_MIN);
      expect(next).toBeLessThanOrEqual(FIRST_ID_MAX);
      expect(readFileSync(log, 'utf8')).toContain(`notes reloaded: next id ${next}`);
      // A server that never answers the signal: the set-up says so instead of going on.
      writeFileSync(notes, JSON.stringify({ nextId: 3, items: [] }, null, 2));
      // (Its wait cut from 10 s to a fifth of a second.)
      const short = moved.replace('$(seq 200)', '$(seq 4)');
      expect(short).not.toBe(moved);
      const deaf = spawnSync('bash', ['-ec', `pgrep() { echo 4242; }\nkill() { :; }\n${short}`], { encoding: 'utf8' });
      expect(deaf.status).toBe(1);
      expect(deaf.stderr).toMatch(/did not read its notes again/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has unique checks worth 9 points, and the answers need this world', () => {
    const checks = labChecks(registered, varsFor(registered, 'x'));
    expect(checks.map((c) => c.id)).toEqual([
      'reach',
      'create',
      'update',
      'delete',
      'answer-created-id',
      'answer-statuses',
    ]);
    expect(checks.reduce((s, c) => s + c.points, 0)).toBe(9);
    expect(registered.readme).not.toMatch(/created_id: 3\b/);
  });
});
