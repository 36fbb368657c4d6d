// The grader's use of the journey: run a probe again under captures and say where its packets
// stopped. Only the grader's own sidecars capture. A trace that cannot be made says so in its
// output; it never changes the verdict it explains.
import { stoppedLines } from '../../checks/packets/stopped.js';
import { follow } from '../../checks/packets/match.js';
import type { Evidence } from '../../checks/types.js';
import type { Driver } from '../runtime/driver.js';
import { startCaptures } from './capture.js';
import { diagnoseDrops, nodeViewsOf, observationsOf } from './run.js';

export async function traceProbe(driver: Driver, instance: string, probe: () => Promise<unknown>): Promise<Evidence> {
  const command =
    'the grader captured on every interface of every node while it sent the probes of the failed checks again, one after another';
  let capture;
  try {
    capture = await startCaptures(driver, instance, { maxPackets: 2000, snapLength: 320, maxSeconds: 90 });
  } catch (err) {
    // Not graderError: a trace explains a verdict already made; its own trouble must not undo it.
    return {
      where: 'every node',
      command,
      exitCode: 1,
      output: `(the grader could not trace where the packets stopped: its captures did not start: ${(err as Error).message})`,
    };
  }
  try {
    await probe().catch(() => undefined);
    const set = await capture.stop(300);
    const journey = follow(observationsOf(set), nodeViewsOf(set));
    const diagnoses = await diagnoseDrops(journey, set, (node, script) => capture.run(node, script));
    const lines = stoppedLines(journey, diagnoses);
    return {
      where: 'every node',
      command,
      exitCode: 0,
      output: lines.length ? lines.join('\n') : 'every packet the probe sent reached a node that owns its destination',
    };
  } catch (err) {
    return {
      where: 'every node',
      command,
      exitCode: 1,
      output: `(the grader could not trace where the packets stopped: ${(err as Error).message})`,
    };
  } finally {
    await capture.remove();
  }
}
