import { describe, expect, it } from 'vitest';
import { findLab, loadLabs } from '../../orchestrator/lab.js';
import { worldProblems } from '../../orchestrator/validate.js';
import { labWorld } from '../../orchestrator/labrun.js';
import { varsFor } from '../../orchestrator/lab.js';

describe('the lab registry', () => {
  it('finds every lab by number, padded number, slug and folder; its folder names it', async () => {
    const labs = await loadLabs();
    expect(labs.map((l) => l.number)).toEqual(labs.map((_, i) => i + 1));
    for (const lab of labs) {
      expect(lab.dir.endsWith(`/${lab.id}-${lab.slug}`), lab.dir).toBe(true);
      expect(Number(lab.id)).toBe(lab.number);
      for (const q of [String(lab.number), lab.id, lab.slug, `${lab.id}-${lab.slug}`]) expect((await findLab(q)).id).toBe(lab.id);
      expect(lab.readme).toMatch(/## Goal/);
      expect(lab.readme).toMatch(/## Hints/);
    }
  });
  it('gives every lab a valid world for any learner', async () => {
    for (const lab of await loadLabs()) {
      for (const seed of ['a', 'b', 'c']) expect(worldProblems(labWorld(lab, varsFor(lab, seed))), `${lab.id} ${seed}`).toEqual([]);
    }
  });
  it('explains an unknown lab with the list of labs', async () => {
    await expect(findLab('nope')).rejects.toThrow(/unknown lab "nope". The labs are:\n\s+01\s+client-server/);
  });
});
