// hurrynet doctor: gather the machine's facts once, then run every check on them. The fast form
// is what up, lab and grade show under an engine or image-build error: only the cheap readings.
import { DockerUnavailableError, ImageBuildError } from '../errors.js';
import type { Driver } from '../runtime/driver.js';
import { CHECKS } from './checks/index.js';
import { exitCodeFor, type DoctorInputs, type Finding } from './findings.js';
import { gather } from './gather.js';

export { exitCodeFor, type Finding } from './findings.js';

export function checkAll(inputs: DoctorInputs): Finding[] {
  return CHECKS.flatMap((check) => check(inputs));
}

export async function doctor(
  driver: Driver,
  opts: { fast?: boolean } = {},
): Promise<{ findings: Finding[]; code: number }> {
  const findings = checkAll(await gather(driver, opts));
  return { findings, code: exitCodeFor(findings) };
}

/** The commands whose failures the fast form explains. */
export const PREFLIGHT_COMMANDS = new Set(['up', 'lab', 'grade', 'build']);

/**
 * What went wrong under a failed command, when the cause is the engine or an image build: the fast
 * form's findings that are not ok (all of them on an unexpected error inside the doctor: none).
 */
export async function preflightFor(
  command: string | undefined,
  err: unknown,
  driver: () => Driver,
): Promise<Finding[] | undefined> {
  if (!command || !PREFLIGHT_COMMANDS.has(command)) return undefined;
  if (!(err instanceof DockerUnavailableError || err instanceof ImageBuildError)) return undefined;
  try {
    const { findings } = await doctor(driver(), { fast: true });
    const shown = findings.filter((f) => f.status !== 'ok');
    // A missing or forbidden socket already says why the engine does not answer: one finding is enough.
    const socketFailed = shown.some((f) => f.id === 'docker-socket');
    return shown.filter((f) => !(socketFailed && f.id === 'engine'));
  } catch {
    // The error itself is what the user needs; the doctor's own trouble must not hide it.
    return undefined;
  }
}
