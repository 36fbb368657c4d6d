import { describe, expect, it } from 'vitest';
import { drawsIndependently, findLab, loadLabs, varsFor } from '../../orchestrator/labs/lab.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { worldProblems } from '../../orchestrator/world/validate.js';
import { labWorld } from '../../orchestrator/labs/labrun.js';

describe('the lab registry', () => {
  it('finds every lab by number, padded number, slug and folder; its folder names it', async () => {
    const labs = await loadLabs();
    expect(labs.map((l) => l.number)).toEqual(labs.map((_, i) => i + 1));
    for (const lab of labs) {
      expect(lab.dir.endsWith(`/${lab.id}-${lab.slug}`), lab.dir).toBe(true);
      expect(Number(lab.id)).toBe(lab.number);
      for (const q of [String(lab.number), lab.id, lab.slug, `${lab.id}-${lab.slug}`])
        expect((await findLab(q)).id).toBe(lab.id);
      expect(lab.readme).toMatch(/## Goal/);
      expect(lab.readme).toMatch(/## Hints/);
    }
  });
  it('gives every lab a valid world for any learner', async () => {
    for (const lab of await loadLabs()) {
      for (const seed of ['a', 'b', 'c'])
        expect(worldProblems(labWorld(lab, varsFor(lab, seed))), `${lab.id} ${seed}`).toEqual([]);
    }
  });
  it("draws every lab's variables independently: adding a choice to one list reshuffles no other variable", async () => {
    for (const lab of await loadLabs()) expect(drawsIndependently(lab.vary), `lab ${lab.id}`).toBe(true);
  });

  it('has no lab that names its own folder or casts its variables', async () => {
    for (const lab of await loadLabs()) {
      const source = readFileSync(join(lab.dir, 'lab.ts'), 'utf8');
      const folder = lab.dir.split('/').pop() as string;
      expect(source.includes(`labs/${folder}`), `lab ${lab.id} names its folder`).toBe(false);
      expect(/String\(v\.|Number\(v\./.test(source), `lab ${lab.id} casts its variables`).toBe(false);
    }
  });

  it('explains an unknown lab with the list of labs', async () => {
    await expect(findLab('nope')).rejects.toThrow(/unknown lab "nope". The labs are:\n\s+01\s+client-server/);
  });
});
