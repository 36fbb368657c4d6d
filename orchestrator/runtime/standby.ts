// The standby world: one fresh world kept started in the background, so that `lab N` only has to
// rename it and apply the lab's state (exec is cheap, starting is not). It is built for the world
// the learner most likely needs next (the next lab's, with the learner's seed; labs may change
// the topology) and carries a hash of that world: a lab claims it only when its own world hashes
// the same. It is created under its own name (standby-xxxx) and claimed by renaming its containers.
import { spawn } from 'node:child_process';
import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Driver } from './driver.js';
import { listInstances, stop, up } from './engine.js';
import { imageSet, type Progress } from './images.js';
import { containerName, LABEL } from './plan.js';
import { projectRoot } from './paths.js';
import { canonicalWorld, type World } from '../world/world.js';
import { StandbyNameError } from '../errors.js';

export const STANDBY_PREFIX = 'standby-';
export const STANDBY_LABEL = 'io.hurrynet.standby';
/** The hash of the world a standby world was built as. */
export const WORLD_LABEL = 'io.hurrynet.world';
/** Where a claimed standby world records its lab: a node the learner's shell is not on. */
export const CLAIM_NODE = 'isp';

/** A short hash that changes whenever anything in the world data changes. */
export function worldHash(world: World): string {
  return createHash('sha256').update(JSON.stringify(world)).digest('hex').slice(0, 16);
}
export const CLAIM_PATH = '/run/hurrynet/claim.json';

export function standbyEnabled(): boolean {
  const v = process.env.HURRYNET_STANDBY;
  return !(v === '0' || v === 'false' || v === 'off');
}

export function isStandbyName(instance: string): boolean {
  return instance.startsWith(STANDBY_PREFIX);
}

export { StandbyNameError };

/** A standby world must stay untouched until a lab claims it; its names are reserved. */
export function refuseStandby(instance: string): void {
  if (isStandbyName(instance)) {
    throw new StandbyNameError(
      `"${instance}" is a standby world kept fresh for the next lab (names starting with "${STANDBY_PREFIX}" are reserved); start a lab with "npm run lab N" or pick another instance name`,
    );
  }
}

export interface StandbyWorld {
  instance: string;
  healthy: boolean;
  current: boolean;
  world: string;
}

/** Standby worlds on the engine, with whether they are usable (running, built from current images). */
export async function listStandby(driver: Driver): Promise<StandbyWorld[]> {
  const byInstance = await listInstances(driver);
  const images = new Set(Object.values(imageSet().roles));
  const out: StandbyWorld[] = [];
  for (const [instance, containers] of byInstance) {
    if (!isStandbyName(instance)) continue;
    const running = containers.every((c) => c.state === 'running');
    const current = containers.every((c) => images.has(c.image));
    out.push({
      instance,
      healthy: running && containers.length > 0,
      current,
      world: containers[0]?.labels[WORLD_LABEL] ?? '',
    });
  }
  return out;
}

/**
 * Makes sure one usable standby world of `world` exists (the canonical world by default); removes
 * stale, broken or other-world ones, so that at most one waits at a time.
 */
export async function ensureStandby(
  driver: Driver,
  progress: Progress = () => undefined,
  world: World = canonicalWorld,
): Promise<string> {
  const hash = worldHash(world);
  const lock = join(tmpdir(), 'hurrynet-standby.lock');
  if (!takeLock(lock)) return 'busy';
  try {
    const list = await listStandby(driver);
    const usable = list.find((s) => s.healthy && s.current && s.world === hash);
    for (const s of list) if (s !== usable) await stop(driver, s.instance);
    if (usable) return usable.instance;
    const instance = `${STANDBY_PREFIX}${randomBytes(3).toString('hex')}`;
    progress(`starting a standby world (${instance}) in the background`);
    await up(driver, { instance, world, labels: { [STANDBY_LABEL]: 'true', [WORLD_LABEL]: hash }, progress });
    return instance;
  } finally {
    releaseLock(lock);
  }
}

export const LOCK_STALE_MS = 120_000;

/**
 * Takes a lock file: created whole (written aside, then hard-linked into place, which fails if it
 * exists), so that no one ever sees it empty. A lock is stale when its holder is gone or it is
 * older than LOCK_STALE_MS; an unreadable one counts by its file time, never as ancient.
 */
export function takeLock(path: string, now = Date.now()): boolean {
  const aside = `${path}.${process.pid}.${randomBytes(3).toString('hex')}`;
  writeFileSync(aside, `${process.pid} ${now}`);
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(aside, path);
        return true;
      } catch {
        if (attempt > 0 || !lockIsStale(path, now)) return false;
        // Move the stale lock away (only one taker's rename can succeed), then try once more.
        try {
          renameSync(path, `${aside}.stale`);
          unlinkSync(`${aside}.stale`);
        } catch {
          return false;
        }
      }
    }
    return false;
  } finally {
    unlinkSync(aside);
  }
}

export function lockIsStale(path: string, now = Date.now()): boolean {
  let text = '';
  let mtime = now;
  try {
    text = readFileSync(path, 'utf8');
    mtime = statSync(path).mtimeMs;
  } catch {
    return false;
  }
  const [pid, time] = text.trim().split(' ').map(Number);
  const since = Number.isFinite(time) && (time as number) > 0 ? (time as number) : mtime;
  if (now - since >= LOCK_STALE_MS) return true;
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function releaseLock(path: string): void {
  try {
    if (readFileSync(path, 'utf8').split(' ')[0] === String(process.pid)) unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/**
 * Claims a usable standby world as `instance`: renames its containers and records the lab on
 * the claim node. Returns false (and changes nothing) when there is none.
 */
export async function claimStandby(
  driver: Driver,
  instance: string,
  claim: { lab: string; seed: string },
  world: World,
): Promise<boolean> {
  const hash = worldHash(world);
  const usable = (await listStandby(driver)).find((s) => s.healthy && s.current && s.world === hash);
  if (!usable) return false;
  const containers = (await listInstances(driver)).get(usable.instance) ?? [];
  // Rename first: once renamed, no one else can claim the same world.
  const renamed: { from: string; to: string }[] = [];
  try {
    for (const c of containers) {
      const node = c.labels[LABEL.node] as string;
      const to = containerName(instance, node);
      await driver.rename(c.id, to);
      renamed.push({ from: c.name, to });
    }
  } catch {
    // Someone claimed it at the same moment: put back what we renamed and let the caller start fresh.
    for (const r of renamed) await driver.rename(r.to, r.from).catch(() => undefined);
    return false;
  }
  const r = await driver.exec(containerName(instance, claimNode(world)), ['sh', '-c', `cat > ${CLAIM_PATH}`], {
    stdin: JSON.stringify({ instance, ...claim, claimedAt: new Date().toISOString() }),
  });
  if (r.exitCode !== 0) throw new Error(`could not record the lab on the claimed world: ${r.stderr}`);
  return true;
}

/** The node that keeps the claim: the ISP router, or any node but Alice's laptop if a lab has none. */
function claimNode(world: World): string {
  return world.nodes.some((n) => n.name === CLAIM_NODE)
    ? CLAIM_NODE
    : (world.nodes.find((n) => n.name !== 'alice')?.name ?? 'alice');
}

/** The lab a claimed world runs, from its claim file (undefined for a world started as itself). */
export async function readClaim(driver: Driver, instance: string): Promise<{ lab: string; seed: string } | undefined> {
  const containers = (await listInstances(driver)).get(instance) ?? [];
  const node =
    containers.find((c) => c.labels[LABEL.node] === CLAIM_NODE && c.labels[STANDBY_LABEL]) ??
    containers.find((c) => c.labels[LABEL.node] !== 'alice' && c.labels[STANDBY_LABEL]);
  if (!node || !node.labels[STANDBY_LABEL] || node.state !== 'running') return undefined;
  const r = await driver.exec(node.id, ['cat', CLAIM_PATH]).catch(() => undefined);
  if (!r || r.exitCode !== 0) return undefined;
  try {
    const doc = JSON.parse(r.stdout) as { lab?: string; seed?: string };
    return doc.lab ? { lab: doc.lab, seed: doc.seed ?? '' } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts `hurrynet standby --ensure` detached, so the learner never waits for it: for a lab's
 * world (with the learner's seed) when given, else the free world.
 */
export function ensureStandbyInBackground(next?: { lab: string; seed: string }): void {
  // HURRYNET_STANDBY=claim uses a ready standby world but never starts one (the benchmark).
  if (!standbyEnabled() || process.env.HURRYNET_STANDBY === 'claim') return;
  const log = openSync(join(tmpdir(), 'hurrynet-standby.log'), 'a');
  const args = ['standby', '--ensure', '--quiet', ...(next ? ['--lab', next.lab, '--seed', next.seed] : [])];
  const child = spawn(process.execPath, [join(projectRoot(), 'bin', 'hurrynet.js'), ...args], {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, NO_COLOR: '1' },
  });
  child.unref();
  closeSync(log);
}
