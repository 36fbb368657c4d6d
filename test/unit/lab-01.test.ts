// Lab 01 without Docker: the variation, the task card, and the start that makes the created id
// this world's own.
import { describe, expect, it } from 'vitest';
import { findLab, varsFor } from '../../orchestrator/labs/lab.js';
import { labChecks, labWorld } from '../../orchestrator/labs/labrun.js';
import lab, { BOB_NOTES, FIRST_ID_MAX, FIRST_ID_MIN } from '../../labs/01-client-server/lab.js';

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

  it("starts Bob's server with a counter drawn at every start, well past a fresh server's 3", () => {
    const v = varsFor(lab, 'x');
    const faults = lab.faults(v, labWorld(registered, v));
    expect(faults.map((f) => f.node)).toEqual(['web']);
    const script = faults[0]?.script ?? '';
    expect(script).toContain(`shuf -i ${FIRST_ID_MIN}-${FIRST_ID_MAX} -n 1`);
    expect(script).toContain('n.nextId = Number(process.env.NEXT)');
    expect(script).toMatch(/listening tcp 80/);
    // The counter changes only once the old server is gone, and the new one starts after it.
    expect(script.indexOf('while kill -0')).toBeLessThan(script.indexOf('node -e'));
    expect(script.indexOf('node -e')).toBeLessThan(script.indexOf('setsid'));
    expect(FIRST_ID_MIN).toBeGreaterThan(3);
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
