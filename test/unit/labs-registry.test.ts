import { describe, expect, it } from 'vitest';
import { drawsIndependently, findLab, loadLabs, varsFor } from '../../orchestrator/labs/lab.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { worldProblems } from '../../orchestrator/world/validate.js';
import { labWorld } from '../../orchestrator/labs/labrun.js';
import { MAX_HINT_LEVEL } from '../../checks/types.js';

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

  it('gives every check three hint levels that differ, the fix never inside level 1', async () => {
    for (const lab of await loadLabs()) {
      for (const seed of ['a', 'b']) {
        const vars = varsFor(lab, seed);
        for (const check of lab.checks(vars, labWorld(lab, vars))) {
          const where = `lab ${lab.id} ${check.id}`;
          expect(Array.isArray(check.hint) && check.hint.length, `${where}: levels`).toBe(MAX_HINT_LEVEL);
          const levels = check.hint as readonly string[];
          for (const h of levels) expect(h.trim().length, `${where}: an empty level`).toBeGreaterThan(10);
          expect(new Set(levels).size, `${where}: repeated levels`).toBe(MAX_HINT_LEVEL);
          // Level 1 says where to look; the fix (level 3) never hides in it.
          expect(levels[0]?.includes(levels[2] as string), `${where}: level 1 contains the fix`).toBe(false);
        }
      }
    }
  });
  it("orders every handout's hints as the levels: where to look, which tool or file, the fix", async () => {
    for (const lab of await loadLabs()) {
      const hints = lab.readme.slice(lab.readme.indexOf('## Hints'));
      const at = ['### 1. Where to look', '### 2. Which tool or file', '### 3. The fix'].map((h) => hints.indexOf(h));
      expect(
        at.every((i) => i > 0),
        `lab ${lab.id}: the three hint headings`,
      ).toBe(true);
      expect(
        [...at].sort((a, b) => a - b),
        `lab ${lab.id}: hint headings in order`,
      ).toEqual(at);
      expect(hints, `lab ${lab.id}`).toContain(`npm run check ${lab.number} -- --hint 2`);
    }
  });

  it('explains an unknown lab with the list of labs', async () => {
    await expect(findLab('nope')).rejects.toThrow(/unknown lab "nope". The labs are:\n\s+01\s+client-server/);
  });
});
