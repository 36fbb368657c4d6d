// The standby world: prepared in the background, claimed by a lab in a moment, never reused.
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/runtime/engine.js';
import { findLab, varsFor } from '../../orchestrator/labs/lab.js';
import { labWorld, startLab } from '../../orchestrator/labs/labrun.js';
import { ensureStandby, listStandby } from '../../orchestrator/runtime/standby.js';
import { cli, driver, labelledObjects, sh } from './helpers.js';
import { apply, explain, grade, type LabRun, solutionDir } from './lab-harness.js';

const I = 't-standby';

afterAll(async () => {
  await stop(driver, I);
  for (const s of await listStandby(driver)) await stop(driver, s.instance);
});

describe('standby world', () => {
  it('is prepared once, claimed by a lab, and never handed out twice', async () => {
    const name = await ensureStandby(driver);
    expect(name).toMatch(/^standby-[0-9a-f]{6}$/);
    expect(await ensureStandby(driver)).toBe(name); // a usable one is kept, not duplicated

    const status = await cli(['status', '--json']);
    expect(
      (JSON.parse(status.stdout) as { instances: { instance: string }[] }).instances.map((i) => i.instance),
    ).toContain(name);
    const refused = await cli(['shell', '--instance', name]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/is a standby world/);

    const lab = await findLab('1');
    const t0 = Date.now();
    const started = await startLab(driver, lab, { instance: I, seed: 'sb-1', standby: true });
    const seconds = (Date.now() - t0) / 1000;
    expect(started.fromStandby).toBe(true);
    expect(seconds).toBeLessThan(started.plan.containers.length); // far below a cold start; the benchmark measures it
    expect((await listStandby(driver)).map((s) => s.instance)).not.toContain(name);
    // The claimed world is the learner's: named after the instance, with the lab's state.
    expect((await sh(I, 'alice', 'cat /root/TASK.txt')).stdout).toMatch(/create_title:/);

    const run: LabRun = { lab, instance: I, seed: 'sb-1', vars: started.vars };
    expect((await grade(run)).passed).toBe(false);
    await apply(run, solutionDir(run));
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(true);
    const check = await cli(['check', '--instance', I]);
    expect(check.code, check.stdout).toBe(0);

    // Stopping the lab removes the claimed world completely, networks included.
    await stop(driver, I);
    expect(await labelledObjects(I)).toBe(0);
    expect(await labelledObjects(name)).toBe(0);
  });

  it('serves a lab that changes the world only when it was built as that very world', async () => {
    const lab2 = await findLab('2');
    const mine = labWorld(lab2, varsFor(lab2, 'sb-2'));
    const name = await ensureStandby(driver, () => undefined, mine);
    // Another learner's variation of the same lab is a different world: not served from it.
    const other = await startLab(driver, lab2, { instance: I, seed: 'sb-other', standby: true });
    expect(other.fromStandby).toBeFalsy();
    await stop(driver, I);
    const started = await startLab(driver, lab2, { instance: I, seed: 'sb-2', standby: true });
    expect(started.fromStandby).toBe(true);
    expect((await listStandby(driver)).map((s) => s.instance)).not.toContain(name);
    const status = await cli(['status', '--json', '--instance', I]);
    expect(status.stdout).toMatch(/"lab": "02"/);
  });
});
