// Option parsers shared by the commands. They run while commander parses, so they throw
// commander's InvalidArgumentError: commander prints "option ... argument ... is invalid" and
// main() exits with EXIT.usage. (Actions throw UsageError instead.)
import { InvalidArgumentError, Option } from 'commander';
import { defaultInstance } from '../runtime/engine.js';
import { validateInstanceName } from '../runtime/plan.js';
import { autoJobs, shard } from '../grading/grade.js';
import { MAX_HINT_LEVEL } from '../../checks/types.js';

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

/** The options a learner chose that every suggested command must repeat. */
export interface LearnerFlags {
  instance?: string;
  /** Only when the learner chose it (a default seed is not repeated). */
  seed?: string;
}

/** The commands that take --seed (the others read the seed from the world). */
const SEEDED = new Set(['lab']);
/** The hurrynet commands that package.json has an npm script for. */
const NPM_SCRIPTS = new Set(['lab', 'check', 'list', 'grade', 'bench']);

/** A word as a shell reads it back: quoted only when it has to be. */
export function shellWord(word: string): string {
  // A placeholder (<command>, <number>) is for the reader to fill in, not a word to quote.
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) || /^<[a-z -]+>$/.test(word)
    ? word
    : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The learner's flags as arguments for one command: --instance unless the default, --seed where it applies. */
export function flagArgs(command: string, flags: LearnerFlags = {}): string[] {
  const out: string[] = [];
  if (flags.instance && flags.instance !== defaultInstance()) out.push('--instance', flags.instance);
  if (flags.seed !== undefined && SEEDED.has(command)) out.push('--seed', flags.seed);
  return out;
}

/**
 * A hurrynet command to suggest, with the learner's flags: `npm run lab 3 -- --reset --instance la`
 * (npm passes options on only after "--") for the commands with an npm script, else
 * `npx hurrynet shell home --instance la` (before a "--" that starts a node's command line).
 */
export function suggest(
  command: string,
  args: string[] = [],
  flags: LearnerFlags = {},
  form: 'npm' | 'npx' = NPM_SCRIPTS.has(command) ? 'npm' : 'npx',
): string {
  const extra = flagArgs(command, flags);
  if (form === 'npm' && NPM_SCRIPTS.has(command) && !args.includes('--')) {
    const firstOption = args.findIndex((a) => a.startsWith('-'));
    const positional = firstOption < 0 ? args : args.slice(0, firstOption);
    const options = [...(firstOption < 0 ? [] : args.slice(firstOption)), ...extra];
    return [
      'npm run',
      command,
      ...positional.map(shellWord),
      ...(options.length ? ['--', ...options.map(shellWord)] : []),
    ].join(' ');
  }
  const end = args.indexOf('--');
  const words = end < 0 ? [...args, ...extra] : [...args.slice(0, end), ...extra, ...args.slice(end)];
  return ['npx hurrynet', command, ...words.map(shellWord)].join(' ');
}

/**
 * Text that names hurrynet commands (a check's hint, a task card: "npx hurrynet shell home") with
 * the learner's --instance added to each, so that what it says acts on the learner's instance.
 */
export function withLearnerFlags(text: string, flags: LearnerFlags = {}): string {
  return text.replace(/\bnpx hurrynet ([a-z]+)\b/g, (whole, command: string) => {
    const extra = flagArgs(command, { instance: flags.instance });
    return extra.length ? `${whole} ${extra.map(shellWord).join(' ')}` : whole;
  });
}

// Number('') is 0 and Number(' 7 ') is 7: only plain decimal text counts as a number.
const toNumber = (v: string) => (/^\s*[0-9]*\.?[0-9]+\s*$/.test(v) ? Number(v) : NaN);

/** A hint level: 0 (none) to MAX_HINT_LEVEL (the fix). */
export function parseHintLevel(v: string): number {
  const n = toNumber(v);
  if (!Number.isInteger(n) || n < 0 || n > MAX_HINT_LEVEL)
    throw new InvalidArgumentError(`expected a hint level from 0 to ${MAX_HINT_LEVEL}`);
  return n;
}

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
