// Lab images: a root filesystem (debian:bookworm-slim, or bootstrapped offline with mmdebstrap),
// a shared base with the toolkit, and thin role images. Tags derive from content, so an
// unchanged image is never rebuilt.
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Driver } from './driver.js';
import { DockerUnavailableError, ImageBuildError } from '../errors.js';
import { LABEL, PROJECT } from './plan.js';
import { onPath, projectRoot } from './paths.js';
import type { Role } from '../world/world.js';

export const ROLES: Role[] = ['alice', 'router', 'bgp', 'dns', 'web', 'ftp', 'mail'];
export const ROOT_REPO = `${PROJECT}/root`;
export const ROOT_TAG = 'bookworm';
export const DEFAULT_ROOT_SOURCE = 'debian:bookworm-slim';

export type Progress = (message: string) => void;

export interface ImageSet {
  base: string;
  roles: Record<Role, string>;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(full));
    else out.push(full);
  }
  return out.sort();
}

/** A short content hash over a build context and what it builds FROM. */
export function contextHash(dir: string, parent: string): string {
  const h = createHash('sha256');
  h.update(`from:${parent}\n`);
  for (const file of filesUnder(dir)) {
    h.update(`${relative(dir, file)}\n`);
    h.update(`${statSync(file).mode & 0o111 ? 'x' : '-'}\n`);
    h.update(readFileSync(file));
  }
  return h.digest('hex').slice(0, 12);
}

export function imagesDir(): string {
  return join(projectRoot(), 'images');
}

/** Computes every image tag without touching Docker. */
export function imageSet(root = rootImageRef()): ImageSet {
  const dir = imagesDir();
  const base = `${PROJECT}/base:${contextHash(join(dir, 'base'), root)}`;
  const roles = Object.fromEntries(
    ROLES.map((r) => [r, `${PROJECT}/${r}:${contextHash(join(dir, r), base)}`]),
  ) as Record<Role, string>;
  return { base, roles };
}

/** The root image reference: HURRYNET_ROOT_IMAGE if set, else our own tag of bookworm. */
export function rootImageRef(): string {
  return process.env.HURRYNET_ROOT_IMAGE ?? `${ROOT_REPO}:${ROOT_TAG}`;
}

function imageLabels(role: string): Record<string, string> {
  return { [LABEL.project]: PROJECT, [LABEL.kind]: 'image', 'io.hurrynet.role': role };
}

/** Makes sure the root image exists: local debian:bookworm-slim, a pull of it, or mmdebstrap. */
export async function ensureRoot(driver: Driver, progress: Progress): Promise<string> {
  const ref = rootImageRef();
  if (await driver.imageExists(ref)) return ref;
  if (process.env.HURRYNET_ROOT_IMAGE) {
    if (await driver.tryPull(ref)) return ref;
    throw new Error(`HURRYNET_ROOT_IMAGE=${ref} is neither present nor pullable`);
  }
  const source = DEFAULT_ROOT_SOURCE;
  if ((await driver.imageExists(source)) || (progress(`pulling ${source}...`), await driver.tryPull(source))) {
    const [repo, tag] = ref.split(':') as [string, string];
    await driver.tagImage(source, repo, tag);
    return ref;
  }
  progress(`no image registry reachable: bootstrapping Debian bookworm with mmdebstrap (about a minute, once)`);
  await bootstrapRoot(driver, ref, progress);
  return ref;
}

async function bootstrapRoot(driver: Driver, ref: string, progress: Progress): Promise<void> {
  if (!onPath('mmdebstrap')) {
    throw new Error(
      'mmdebstrap is needed to bootstrap the base image offline but is not installed. ' +
        'Install it (apt-get install mmdebstrap), run npm run setup, or set HURRYNET_ROOT_IMAGE to a Debian bookworm image you have.',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'hurrynet-root-'));
  const tarball = join(dir, 'root.tar');
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('mmdebstrap', ['--variant=minbase', '--include=ca-certificates', 'bookworm', tarball], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let tail = '';
      const onData = (b: Buffer) => {
        for (const line of b.toString().split('\n')) {
          if (!line.trim()) continue;
          tail = (tail + '\n' + line).slice(-2000);
          if (/^I: /.test(line)) progress(`  mmdebstrap: ${line.slice(3)}`);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`mmdebstrap failed (exit ${code}):${tail}`)),
      );
    });
    const [repo, tag] = ref.split(':') as [string, string];
    await driver.importImage(createReadStream(tarball), repo, tag, imageLabels('root'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface BuildReport {
  built: string[];
  reused: string[];
  seconds: number;
}

/** Builds whatever is missing (base first, then the roles in parallel) with visible progress. */
export async function ensureImages(
  driver: Driver,
  progress: Progress,
  opts: { force?: boolean } = {},
): Promise<{ images: ImageSet; report: BuildReport }> {
  const started = Date.now();
  const root = await ensureRoot(driver, progress);
  const images = imageSet(root);
  const built: string[] = [];
  const reused: string[] = [];
  const dir = imagesDir();

  const buildOne = async (role: string, tag: string, args: Record<string, string>) => {
    if (!opts.force && (await driver.imageExists(tag))) {
      reused.push(tag);
      return;
    }
    const t0 = Date.now();
    progress(`building ${tag} ...`);
    await driver
      .buildImage({
        tag,
        contextDir: join(dir, role),
        buildArgs: args,
        labels: imageLabels(role),
        onProgress: (line) => {
          if (/^Step \d+\/\d+ :/.test(line)) progress(`  [${role}] ${line.slice(0, 110)}`);
        },
      })
      .catch((err: unknown) => {
        // An engine that went away stays that error; anything else is this build's failure.
        if (err instanceof DockerUnavailableError) throw err;
        throw new ImageBuildError(tag, err instanceof Error ? err.message : String(err));
      });
    built.push(tag);
    progress(`built ${tag} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  };

  await buildOne('base', images.base, { ROOT_IMAGE: root });
  await Promise.all(ROLES.map((r) => buildOne(r, images.roles[r], { BASE_IMAGE: images.base })));
  // ":latest" always names the current content; docker-compose.yml refers to it.
  await Promise.all(
    [['base', images.base] as const, ...ROLES.map((r) => [r, images.roles[r]] as const)].map(([role, tag]) =>
      driver.tagImage(tag, `${PROJECT}/${role}`, 'latest'),
    ),
  );
  return { images, report: { built, reused, seconds: (Date.now() - started) / 1000 } };
}

/** True when every image of the current content exists (a cheap check before `up`). */
export async function imagesReady(driver: Driver): Promise<ImageSet | undefined> {
  const images = imageSet();
  const all = [images.base, ...Object.values(images.roles)];
  const present = await Promise.all(all.map((t) => driver.imageExists(t)));
  return present.every(Boolean) ? images : undefined;
}
