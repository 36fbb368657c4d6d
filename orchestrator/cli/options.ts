// Option parsers shared by the commands. They run while commander parses, so they throw
// commander's InvalidArgumentError: commander prints "option ... argument ... is invalid" and
// main() exits with EXIT.usage. (Actions throw UsageError instead.)
import { InvalidArgumentError, Option } from 'commander';
import { defaultInstance } from '../runtime/engine.js';
import { validateInstanceName } from '../runtime/plan.js';
import { autoJobs, shard } from '../grading/grade.js';

/** Longer than any wait makes sense, and short enough for setTimeout (which overflows at 2^31 ms). */
const MAX_SECONDS = 24 * 3600;

export function parseInstance(v: string): string {
  try {
    return validateInstanceName(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** --instance with its default, for the commands that act on one instance. */
export function instanceOption(): Option {
  return new Option('-i, --instance <name>', 'instance name (several can run side by side)')
    .default(defaultInstance(), `$HURRYNET_INSTANCE or your user name`)
    .argParser(parseInstance);
}

/** The --instance flag to repeat in advice, or nothing for the default instance. */
export function instanceFlag(instance: string): string {
  return instance === defaultInstance() ? '' : ` --instance ${instance}`;
}

// Number('') is 0 and Number(' 7 ') is 7: only plain decimal text counts as a number.
const toNumber = (v: string) => (/^\s*[0-9]*\.?[0-9]+\s*$/.test(v) ? Number(v) : NaN);

export function parseCount(v: string): number {
  const n = toNumber(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

/** A comma-separated list of positive whole numbers, such as "1,2,4,8". */
export function parseCountList(v: string): number[] {
  const parts = v.split(',').map((p) => p.trim());
  if (!parts.length || parts.some((p) => !/^[1-9]\d*$/.test(p)))
    throw new InvalidArgumentError('expected positive whole numbers separated by commas, such as 1,2,4,8');
  return parts.map(Number);
}

/** A count where 0 means "skip it". */
export function parseCountOrZero(v: string): number {
  const n = toNumber(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number (0 or more)');
  return n;
}

export function parseSeconds(v: string): number {
  const n = toNumber(v);
  if (!Number.isFinite(n) || n <= 0 || n > MAX_SECONDS)
    throw new InvalidArgumentError(`expected a positive number of seconds (at most ${MAX_SECONDS})`);
  return n;
}

export function parseJobs(v: string): number {
  if (v === 'auto') return autoJobs();
  const n = toNumber(v);
  if (!Number.isInteger(n) || n < 1 || n > 32)
    throw new InvalidArgumentError('expected "auto" or a whole number from 1 to 32');
  return n;
}

/** I/N, checked by the grader's own shard() so that both agree on what is valid. */
export function parseShard(v: string): string {
  try {
    shard([], v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return v;
}
