// The lab format: one folder per lab, labs/NN-slug/, with README.md (the handout), lab.ts (this
// definition) and solution/ (the reference submission). A new lab is a new folder.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Check } from '../../checks/types.js';
import { projectRoot } from '../runtime/paths.js';
import type { World } from '../world/world.js';
import { UnknownLabError } from '../errors.js';

/** A lab's per-learner variables: plain values (a lab declares its own type for them). */
export type Vars = Record<string, string | number>;

/** A command run as root on a node right after start, to put the world into the lab's state. */
export interface Fault {
  node: string;
  description: string;
  script: string;
}

/** A grader-owned capture on one node's interface, for the whole life of the lab (see LabDefinition.witnesses). */
export interface WitnessSpec {
  node: string;
  /** A tcpdump filter expression: what the witness keeps. */
  filter: string;
  /** The interface (a story link's name on lab nodes); default every interface ("any"). */
  iface?: string;
}

export interface Question {
  key: string;
  prompt: string;
}

/**
 * A lab, generic over its own variables V (a `type`, so that it is a Vars). Methods receive this
 * learner's V and, where they judge or change the world, the lab's own world: the canonical world
 * with the lab's overlay and this learner's variation applied.
 */
export interface LabDefinition<V extends Vars = Vars> {
  number: number;
  slug: string;
  title: string;
  topics: string[];
  minutes: number;
  /** One paragraph: what the learner will do. */
  goal: string;
  /** Nodes a submission may change (scripts and files); others are rejected. */
  submissionNodes: string[];
  /**
   * Nodes whose scripts run first, in this order; the others follow in name order (the default
   * for every node). For a lab whose answers on alice can only be found once the other nodes are fixed.
   */
  scriptOrder?: string[];
  questions: Question[];
  /** Per-learner variation, deterministic in the seed: build it with draws() (see there). */
  vary(rng: Rng): V;
  /**
   * This learner's own task values, printed at start and written to /root/TASK.txt on alice as
   * "key: value" lines (reference solutions read them from there). Never reveal a fault here.
   */
  task?(vars: V): Record<string, string>;
  /** Changes to the canonical world (pure: return a new world). */
  overlay?(world: World, vars: V): World;
  faults(vars: V, world: World): Fault[];
  /**
   * Captures the grader starts once the world is ready (after the faults) and keeps for the lab's
   * life, in sidecars the learner cannot reach: checks read them with ctx.witness(node), evidence
   * that crossing the network really happened, whatever the learner writes on the nodes.
   */
  witnesses?(vars: V, world: World): WitnessSpec[];
  checks(vars: V, world: World): Check[];
}

export interface Lab<V extends Vars = Vars> extends LabDefinition<V> {
  id: string; // "01"
  dir: string;
  readme: string;
}

export function defineLab<V extends Vars>(def: LabDefinition<V>): LabDefinition<V> {
  return def;
}

// ---- seeded variation ---------------------------------------------------------------------------

export interface Rng {
  next(): number;
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  /** An independent stream for one purpose, derived from this one's seed and the name. */
  fork(name: string): Rng;
}

/** mulberry32 seeded from sha256: small, fast and the same on every machine. */
export function rngFrom(seed: string): Rng {
  let a = createHash('sha256').update(seed).digest().readUInt32LE(0);
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)] as T,
    fork: (name) => rngFrom(`${seed}/${name}`),
  };
}

/** How each variable of V is drawn: from its own stream, seeing the values drawn before it. */
export type Draws<V extends Vars> = { [K in keyof V]: (rng: Rng, drawn: Partial<V>) => V[K] };

const INDEPENDENT = Symbol('hurrynet.draws');

/**
 * The rule of variation: every variable is drawn from a stream of its own name, in the order
 * given, so that adding a choice to one list (or a new variable) never changes another variable of
 * any learner. A draw may depend on earlier values (conditional variation).
 */
export function draws<V extends Vars>(spec: Draws<V>): (rng: Rng) => V {
  const vary = (rng: Rng): V => {
    const drawn: Partial<V> = {};
    for (const key of Object.keys(spec) as (keyof V & string)[]) drawn[key] = spec[key](rng.fork(key), drawn);
    return drawn as V;
  };
  return Object.assign(vary, { [INDEPENDENT]: true });
}

/** Whether a vary function follows the rule (was built with draws). */
export function drawsIndependently(vary: unknown): boolean {
  return typeof vary === 'function' && (vary as unknown as Record<symbol, unknown>)[INDEPENDENT] === true;
}

export function varsFor<V extends Vars>(lab: LabDefinition<V>, seed: string): V {
  return lab.vary(rngFrom(`${lab.slug}:${seed}`));
}

/** A stable per-user default seed, so a learner sees the same variation every time. */
export function defaultSeed(user: string): string {
  return createHash('sha256').update(`hurrynet:${user}`).digest('hex').slice(0, 8);
}

// ---- registry -------------------------------------------------------------------------------------

const LAB_DIR = /^(\d{2})-([a-z0-9-]+)$/;

function labsDir(): string {
  return join(projectRoot(), 'labs');
}

/** Where the compiled (or, under vitest, source) lab modules are, next to this module. */
function moduleDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'labs');
}

let cache: Lab[] | undefined;
const loaded = new Map<string, Lab | undefined>();

function labDirs(): string[] {
  return existsSync(labsDir())
    ? readdirSync(labsDir())
        .filter((d) => LAB_DIR.test(d))
        .sort()
    : [];
}

/** Loads one lab folder's definition (once); undefined when it has none or it fails to load. */
async function loadLab(dir: string): Promise<Lab | undefined> {
  if (loaded.has(dir)) return loaded.get(dir);
  let lab: Lab | undefined;
  const modulePath = [join(moduleDir(), dir, 'lab.js'), join(moduleDir(), dir, 'lab.ts')].find(existsSync);
  if (modulePath) {
    try {
      const def = ((await import(pathToFileURL(modulePath).href)) as { default: LabDefinition }).default;
      const id = (LAB_DIR.exec(dir) as RegExpExecArray)[1] as string;
      const readmePath = join(labsDir(), dir, 'README.md');
      lab = {
        ...def,
        id,
        dir: join(labsDir(), dir),
        readme: existsSync(readmePath) ? readFileSync(readmePath, 'utf8') : '',
      };
    } catch (err) {
      // One broken lab must not take the others (or the CLI) down with it.
      process.stderr.write(`hurrynet: warning: lab ${dir} cannot be loaded: ${(err as Error).message}\n`);
    }
  }
  loaded.set(dir, lab);
  return lab;
}

export async function loadLabs(): Promise<Lab[]> {
  cache ??= (await Promise.all(labDirs().map(loadLab))).filter((l): l is Lab => !!l);
  return cache;
}

export { UnknownLabError };

/** Finds a lab by number ("3", "03"), slug ("dns"), or folder name ("03-dns"), loading only that one. */
export async function findLab(query: string): Promise<Lab> {
  const q = query.trim().toLowerCase();
  const dir = labDirs().find((d) => {
    const [, id, slug] = LAB_DIR.exec(d) as RegExpExecArray;
    return (/^\d+$/.test(q) && Number(q) === Number(id)) || slug === q || d === q;
  });
  const found = dir ? await loadLab(dir) : undefined;
  if (found) return found;
  const list = (await loadLabs()).map((l) => `  ${l.id}  ${l.slug.padEnd(18)} ${l.title}`).join('\n');
  throw new UnknownLabError(`unknown lab "${query}". The labs are:\n${list}\n(run "npm run list" for details)`);
}

/** The part of a handout to print at start: everything up to the first "## Hints" or "## Reference". */
export function handoutSummary(readme: string): string {
  const cut = readme.search(/^## (Hints|Reference|Background reading)/m);
  return (cut >= 0 ? readme.slice(0, cut) : readme).trim();
}
