// The only module that talks to Docker. Everything else speaks in nodes, links and instances.
// First: dockerode's SSH and gRPC dependencies load only if used (see there).
import './dockerode-lean.js';
import Docker from 'dockerode';
import { PassThrough, type Duplex, type Readable, type Writable } from 'node:stream';
import { LABEL, projectLabelValue, type ContainerPlan, type NetworkPlan } from './plan.js';
import { DockerUnavailableError } from '../errors.js';

export { DockerUnavailableError };

/** Turns low-level connection errors into advice a learner can act on. */
export function explainDockerError(err: unknown, endpoint?: string): Error {
  const e = err as NodeJS.ErrnoException & { statusCode?: number; json?: { message?: string } };
  const socket = endpoint ?? process.env.DOCKER_HOST ?? '/var/run/docker.sock';
  if (e?.code === 'ENOENT' || e?.code === 'ECONNREFUSED') {
    return new DockerUnavailableError(
      `cannot reach the Docker engine at ${socket} (${e.code}). Start it (sudo systemctl start docker, or run dockerd), ` +
        'or install it first: npm run setup installs docker.io on Debian/Ubuntu.',
    );
  }
  if (e?.code === 'EACCES') {
    return new DockerUnavailableError(
      `permission denied on the Docker socket ${socket}. Run as root, or add yourself to the docker group ` +
        '(sudo usermod -aG docker $USER, then log in again).',
    );
  }
  if (e?.json?.message) return new Error(e.json.message);
  return e instanceof Error ? e : new Error(String(err));
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  stdin?: string;
  env?: string[];
  user?: string;
  workdir?: string;
  timeoutMs?: number;
  /** Keep at most this many bytes of each output stream (default 1 MiB); the rest is dropped. */
  maxOutputBytes?: number;
}

export interface ContainerInfo {
  id: string;
  name: string;
  image: string;
  state: string;
  /** Names of the networks it is attached to. */
  networks: string[];
  labels: Record<string, string>;
}

export interface NetworkInfo {
  id: string;
  name: string;
  subnets: string[];
  labels: Record<string, string>;
}

export interface ImageBuild {
  tag: string;
  contextDir: string;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  /** Build every step afresh, ignoring the layer cache (what a first-time user pays). */
  noCache?: boolean;
  onProgress?: (line: string) => void;
}

function labelFilter(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`);
}

function isNotFound(err: unknown): boolean {
  const code = (err as { statusCode?: number }).statusCode;
  return code === 404;
}

export interface DriverOptions {
  /**
   * Where this engine's lab links take their subnets. Engines that share one host (a class on two
   * engines of one machine) need pools of their own: neither sees the other's networks.
   */
  subnetPool?: string;
  /** How the engine is named in messages (its endpoint). */
  endpoint?: string;
  /** How to reach the engine (default: DOCKER_HOST, else the local socket). */
  connection?: Docker.DockerOptions;
}

export class Driver {
  readonly docker: Docker;
  readonly subnetPool: string | undefined;
  readonly endpoint: string | undefined;

  constructor(docker?: Docker, opts: DriverOptions = {}) {
    this.docker = docker ?? new Docker(opts.connection);
    this.subnetPool = opts.subnetPool;
    this.endpoint = opts.endpoint;
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw explainDockerError(err, this.endpoint);
    }
  }

  async ping(): Promise<void> {
    await this.call(() => this.docker.ping());
  }

  async version(): Promise<{ version: string; apiVersion: string }> {
    const v = await this.call(() => this.docker.version());
    return { version: v.Version, apiVersion: v.ApiVersion };
  }

  /**
   * What the engine says about itself and its host (hurrynet doctor). kernelVersion is another
   * machine's when it differs from ours (Docker Desktop's VM); cgroupVersion is "1" or "2".
   */
  async info(): Promise<{
    serverVersion: string;
    operatingSystem: string;
    kernelVersion: string;
    architecture: string;
    dockerRootDir: string;
    cgroupVersion: string;
    cgroupDriver: string;
    memoryLimit: boolean;
    pidsLimit: boolean;
    warnings: string[];
    /** The engine machine's memory in bytes and its CPUs (0 when it does not say). */
    memTotal: number;
    ncpu: number;
  }> {
    type Raw = Partial<Record<'ServerVersion' | 'OperatingSystem' | 'KernelVersion' | 'Architecture', string>> &
      Partial<Record<'DockerRootDir' | 'CgroupVersion' | 'CgroupDriver', string>> &
      Partial<Record<'MemoryLimit' | 'PidsLimit', boolean>> &
      Partial<Record<'MemTotal' | 'NCPU', number>> & { Warnings?: string[] | null };
    const i = (await this.call(() => this.docker.info())) as Raw;
    return {
      serverVersion: i.ServerVersion ?? '',
      operatingSystem: i.OperatingSystem ?? '',
      kernelVersion: i.KernelVersion ?? '',
      architecture: i.Architecture ?? '',
      dockerRootDir: i.DockerRootDir ?? '',
      cgroupVersion: i.CgroupVersion ?? '',
      cgroupDriver: i.CgroupDriver ?? '',
      memoryLimit: i.MemoryLimit !== false,
      pidsLimit: i.PidsLimit !== false,
      warnings: i.Warnings ?? [],
      memTotal: i.MemTotal ?? 0,
      ncpu: i.NCPU ?? 0,
    };
  }

  // ---- images -------------------------------------------------------------------------------

  async imageExists(ref: string): Promise<boolean> {
    try {
      await this.docker.getImage(ref).inspect();
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw explainDockerError(err, this.endpoint);
    }
  }

  async listImages(labels: Record<string, string>): Promise<{ id: string; tags: string[] }[]> {
    const list = await this.call(() => this.docker.listImages({ filters: { label: labelFilter(labels) } }));
    return list.map((i) => ({ id: i.Id, tags: i.RepoTags ?? [] }));
  }

  async tagImage(ref: string, repo: string, tag: string): Promise<void> {
    await this.call(() => this.docker.getImage(ref).tag({ repo, tag }));
  }

  /** Tries to pull an image; false (not an error) when no registry can be reached. */
  async tryPull(ref: string, timeoutMs = 15000): Promise<boolean> {
    try {
      const stream = await this.docker.pull(ref);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('pull timed out')), timeoutMs);
        this.docker.modem.followProgress(stream, (err: Error | null) => {
          clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        });
      });
      return this.imageExists(ref);
    } catch {
      return false;
    }
  }

  /** Imports a root filesystem tarball as an image (the offline bootstrap path). */
  async importImage(tarball: Readable, repo: string, tag: string, labels: Record<string, string>): Promise<void> {
    const changes = [...Object.entries(labels).map(([k, v]) => `LABEL ${k}=${v}`), 'CMD ["bash"]'];
    const stream = await this.call(() =>
      this.docker.importImage(
        tarball as unknown as string,
        { repo, tag, changes } as unknown as Record<string, unknown>,
      ),
    );
    await this.followBuild(stream as NodeJS.ReadableStream, () => undefined);
  }

  async buildImage(build: ImageBuild): Promise<void> {
    const stream = await this.call(() =>
      this.docker.buildImage(
        { context: build.contextDir, src: ['.'] },
        {
          t: build.tag,
          buildargs: build.buildArgs,
          labels: build.labels,
          rm: true,
          forcerm: true,
          nocache: !!build.noCache,
        },
      ),
    );
    await this.followBuild(stream, build.onProgress ?? (() => undefined));
  }

  private followBuild(stream: NodeJS.ReadableStream, onProgress: (line: string) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const errors: string[] = [];
      this.docker.modem.followProgress(
        stream,
        (err: Error | null) => {
          // A failed build can end without an error: the failure is in a message's errorDetail.
          if (err) reject(err);
          else if (errors.length) reject(new Error(errors.join('\n')));
          else resolve();
        },
        (event: { stream?: string; status?: string; error?: string; errorDetail?: { message?: string } }) => {
          if (event.errorDetail || event.error)
            errors.push(event.errorDetail?.message ?? event.error ?? 'build failed');
          const text = event.stream ?? event.status;
          if (text) for (const line of text.split('\n')) if (line.trim()) onProgress(line.trimEnd());
        },
      );
    });
  }

  async removeImage(ref: string): Promise<void> {
    try {
      await this.docker.getImage(ref).remove({ force: true });
    } catch (err) {
      if (!isNotFound(err)) throw explainDockerError(err, this.endpoint);
    }
  }

  // ---- networks -----------------------------------------------------------------------------

  async listNetworks(labels?: Record<string, string>): Promise<NetworkInfo[]> {
    const opts = labels ? { filters: { label: labelFilter(labels) } } : {};
    const list = await this.call(() => this.docker.listNetworks(opts));
    return list.map((n) => ({
      id: n.Id,
      name: n.Name,
      subnets: (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => !!s),
      labels: n.Labels ?? {},
    }));
  }

  async createNetwork(plan: NetworkPlan): Promise<string> {
    const net = await this.call(() =>
      this.docker.createNetwork({
        Name: plan.name,
        Driver: 'bridge',
        CheckDuplicate: true,
        Internal: false,
        EnableIPv6: false,
        Labels: plan.labels,
        Options: plan.options,
        IPAM: { Driver: 'default', Config: [{ Subnet: plan.subnet, Gateway: plan.gateway }] },
      }),
    );
    return net.id;
  }

  /**
   * Removes a network; one already gone counts as removed. On a busy engine the endpoints of
   * containers just removed can linger for a moment ("has active endpoints"): that is waited out.
   */
  async removeNetwork(idOrName: string, settleMs = 15000): Promise<void> {
    const deadline = Date.now() + settleMs;
    for (let pause = 100; ; pause = Math.min(pause * 2, 1000)) {
      try {
        await this.docker.getNetwork(idOrName).remove();
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        const explained = explainDockerError(err, this.endpoint);
        if (!/active endpoints/i.test(explained.message) || Date.now() + pause > deadline) throw explained;
      }
      await new Promise((r) => setTimeout(r, pause));
    }
  }

  /** The host's bridge device of a network, where hurrynet named it (com.docker.network.bridge.name). */
  async bridgeOf(network: string): Promise<string | undefined> {
    try {
      const info = (await this.docker.getNetwork(network).inspect()) as { Options?: Record<string, string> };
      return info.Options?.['com.docker.network.bridge.name'];
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw explainDockerError(err, this.endpoint);
    }
  }

  async connect(network: string, container: string): Promise<void> {
    await this.call(() => this.docker.getNetwork(network).connect({ Container: container }));
  }

  // ---- containers ---------------------------------------------------------------------------

  async listContainers(labels: Record<string, string>): Promise<ContainerInfo[]> {
    const list = await this.call(() =>
      this.docker.listContainers({ all: true, filters: { label: labelFilter(labels) } }),
    );
    return list.map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      image: c.Image,
      state: c.State,
      networks: Object.keys(c.NetworkSettings?.Networks ?? {}),
      labels: c.Labels ?? {},
    }));
  }

  async createContainer(plan: ContainerPlan): Promise<string> {
    const [first] = plan.networks;
    const c = await this.call(() =>
      this.docker.createContainer({
        name: plan.name,
        Hostname: plan.hostname,
        Image: plan.image,
        Env: Object.entries(plan.env).map(([k, v]) => `${k}=${v}`),
        Labels: plan.labels,
        Tty: false,
        OpenStdin: false,
        HostConfig: {
          NetworkMode: first,
          CapDrop: ['ALL'],
          CapAdd: plan.capAdd,
          Sysctls: plan.sysctls,
          Memory: plan.memoryBytes,
          MemorySwap: plan.memoryBytes,
          PidsLimit: plan.pidsLimit,
          NanoCpus: plan.cpus ? Math.round(plan.cpus * 1e9) : undefined,
          Init: false,
          Privileged: false,
          SecurityOpt: ['no-new-privileges'],
          RestartPolicy: { Name: 'no' },
          LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '1' } },
        },
      }),
    );
    return c.id;
  }

  async rename(container: string, name: string): Promise<void> {
    await this.call(() => this.docker.getContainer(container).rename({ name }));
  }

  async start(container: string): Promise<void> {
    await this.call(() => this.docker.getContainer(container).start());
  }

  async removeContainer(idOrName: string): Promise<void> {
    try {
      await this.docker.getContainer(idOrName).remove({ force: true, v: true });
    } catch (err) {
      const code = (err as { statusCode?: number }).statusCode;
      // 409 "removal already in progress" means someone else is removing it: fine.
      if (!isNotFound(err) && code !== 409) throw explainDockerError(err, this.endpoint);
    }
  }

  async inspectState(
    container: string,
  ): Promise<{ running: boolean; exitCode: number; startedAt: string } | undefined> {
    try {
      const info = await this.docker.getContainer(container).inspect();
      return { running: info.State.Running, exitCode: info.State.ExitCode, startedAt: info.State.StartedAt };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw explainDockerError(err, this.endpoint);
    }
  }

  async logs(container: string, tail = 20): Promise<string> {
    try {
      const buf = (await this.docker
        .getContainer(container)
        .logs({ stdout: true, stderr: true, tail, follow: false })) as unknown as Buffer;
      return demuxBuffer(buf);
    } catch (err) {
      if (isNotFound(err)) return '';
      throw explainDockerError(err, this.endpoint);
    }
  }

  /**
   * Resolves when the container prints `marker` on its output; rejects with its last lines when
   * it exits first or the deadline passes. Event-driven: no polling.
   */
  async waitForLine(container: string, marker: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const stream = (await this.call(() =>
      this.docker.getContainer(container).logs({ stdout: true, stderr: true, follow: true }),
    )) as unknown as Readable;
    const out = new PassThrough();
    this.docker.modem.demuxStream(stream, out, out);
    let text = '';
    return new Promise<void>((resolve, reject) => {
      const finish = (err?: Error) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        stream.removeAllListeners('data');
        (stream as Readable & { destroy: () => void }).destroy();
        if (err) reject(err);
        else resolve();
      };
      const lastLines = () => text.trimEnd().split('\n').slice(-10).join('\n');
      const timer = setTimeout(
        () => finish(new NodeTimeoutError(`not ready after ${Math.round(timeoutMs / 1000)} s`, lastLines())),
        timeoutMs,
      );
      const onAbort = () => finish(new Error('aborted'));
      signal?.addEventListener('abort', onAbort);
      out.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
        if (text.includes(marker)) finish();
      });
      stream.on('end', () => {
        // Give the demuxer a tick to flush the last chunk before judging.
        setImmediate(() => {
          if (text.includes(marker)) finish();
          else finish(new NodeDiedError('exited during start', lastLines()));
        });
      });
      stream.on('error', (err: Error) => finish(err));
    });
  }

  /** Runs a command in a running container and collects its output and exit code. */
  async exec(container: string, cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const c = this.docker.getContainer(container);
    const exec = await this.call(() =>
      c.exec({
        Cmd: cmd,
        AttachStdout: true,
        AttachStderr: true,
        AttachStdin: opts.stdin !== undefined,
        Tty: false,
        Env: opts.env,
        User: opts.user,
        WorkingDir: opts.workdir,
      }),
    );
    const stream = await this.call(() => exec.start({ hijack: true, stdin: opts.stdin !== undefined }));
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const outStream = new PassThrough();
    const errStream = new PassThrough();
    // A command that prints without end (a runaway submission) must not fill our memory.
    const cap = opts.maxOutputBytes ?? 1024 * 1024;
    const collect = (into: Buffer[], sizes: { n: number }) => (b: Buffer) => {
      if (sizes.n >= cap) return;
      into.push(b.subarray(0, cap - sizes.n));
      sizes.n += b.length;
    };
    outStream.on('data', collect(stdout, { n: 0 }));
    errStream.on('data', collect(stderr, { n: 0 }));
    this.docker.modem.demuxStream(stream, outStream, errStream);
    if (opts.stdin !== undefined) {
      stream.write(opts.stdin);
      // Half-close so the command sees end of input while we keep reading its output.
      (stream as unknown as { end: () => void }).end();
    }
    await new Promise<void>((resolve, reject) => {
      const timer = opts.timeoutMs
        ? setTimeout(() => {
            (stream as unknown as { destroy: () => void }).destroy();
            reject(new Error(`command timed out after ${opts.timeoutMs} ms: ${cmd.join(' ')}`));
          }, opts.timeoutMs)
        : undefined;
      stream.on('end', () => {
        if (timer) clearTimeout(timer);
        resolve();
      });
      stream.on('close', () => {
        if (timer) clearTimeout(timer);
        resolve();
      });
      stream.on('error', (err: Error) => {
        if (timer) clearTimeout(timer);
        reject(err);
      });
    });
    const info = await this.call(() => exec.inspect());
    return {
      exitCode: info.ExitCode ?? -1,
      stdout: Buffer.concat(stdout).toString('utf8'),
      stderr: Buffer.concat(stderr).toString('utf8'),
    };
  }

  /**
   * Runs a command with a terminal attached to ours: raw mode, resize, and Ctrl-C going to the
   * command rather than to us. Resolves with the command's exit code.
   */
  async interactive(
    container: string,
    cmd: string[],
    io: { stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream },
  ): Promise<number> {
    const c = this.docker.getContainer(container);
    const tty = !!io.stdin.isTTY;
    const exec = await this.call(() =>
      c.exec({
        Cmd: cmd,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        Tty: tty,
        WorkingDir: '/root',
        Env: ['TERM=' + (process.env.TERM ?? 'xterm-256color')],
      }),
    );
    const stream = await this.call(() => exec.start({ hijack: true, stdin: true, Tty: tty }));
    const resize = async () => {
      if (!io.stdout.columns || !io.stdout.rows) return;
      try {
        await exec.resize({ h: io.stdout.rows, w: io.stdout.columns });
      } catch {
        /* the exec may already be gone */
      }
    };
    if (tty) {
      io.stdin.setRawMode(true);
      io.stdout.on('resize', resize);
      stream.pipe(io.stdout as unknown as Writable);
    } else {
      this.docker.modem.demuxStream(stream, io.stdout as unknown as Writable, process.stderr);
    }
    io.stdin.resume();
    io.stdin.pipe(stream as unknown as Writable);
    if (tty) void resize();
    await new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
    io.stdin.unpipe(stream as unknown as Writable);
    if (tty) {
      io.stdin.setRawMode(false);
      io.stdout.off('resize', resize);
    }
    io.stdin.pause();
    const info = await this.call(() => exec.inspect());
    return info.ExitCode ?? 0;
  }

  /**
   * Opens a terminal on a container for a remote screen (the browser UI): a TTY exec whose size the
   * caller sets and changes. Output is the TTY's (stdout and stderr merged, as a terminal shows them).
   */
  async terminal(
    container: string,
    cmd: string[],
    opts: { cols: number; rows: number; workdir?: string; env?: string[] },
  ): Promise<TerminalSession> {
    const c = this.docker.getContainer(container);
    const exec = await this.call(() =>
      c.exec({
        Cmd: cmd,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        Tty: true,
        WorkingDir: opts.workdir ?? '/root',
        Env: ['TERM=xterm-256color', ...(opts.env ?? [])],
      }),
    );
    const stream = (await this.call(() => exec.start({ hijack: true, stdin: true, Tty: true }))) as unknown as Duplex;
    const exited = new Promise<number>((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        // The exit code is there once the stream has ended; an exec already gone counts as -1.
        exec.inspect().then(
          (info) => resolve(info.ExitCode ?? -1),
          () => resolve(-1),
        );
      };
      stream.on('end', finish);
      stream.on('close', finish);
      stream.on('error', finish);
    });
    const resize = async (cols: number, rows: number) => {
      try {
        await exec.resize({ w: cols, h: rows });
      } catch {
        /* the exec may already be gone */
      }
    };
    await resize(opts.cols, opts.rows);
    return {
      output: stream,
      write: (data) => {
        if (!stream.destroyed && stream.writable) stream.write(data);
      },
      resize,
      exited,
      close: () => stream.destroy(),
    };
  }

  /**
   * Starts a throw-away probe container in another container's network namespace: it sees that
   * node's addresses and routes but has its own clean filesystem and binaries. It ends by itself
   * after lifetimeSeconds and removes itself, so a crash leaves nothing for long. With sharePids it
   * also sees the node's processes (and, given the node's own capabilities, their files through
   * /proc/PID/root): how the grader reaches a daemon's control socket with clean binaries. With
   * `command`, that runs instead of the sleep (and must end by itself: the sidecar lives as long).
   */
  async startSidecar(
    name: string,
    target: string,
    image: string,
    labels: Record<string, string>,
    lifetimeSeconds = 600,
    extraCaps: string[] = [],
    opts: { sharePids?: boolean; command?: string[] } = {},
  ): Promise<void> {
    const c = await this.call(() =>
      this.docker.createContainer({
        name,
        Image: image,
        Entrypoint: opts.command ?? ['sleep'],
        Cmd: opts.command ? [] : [String(lifetimeSeconds)],
        Labels: labels,
        HostConfig: {
          NetworkMode: `container:${target}`,
          ...(opts.sharePids ? { PidMode: `container:${target}` } : {}),
          CapDrop: ['ALL'],
          // tcpdump needs SETUID/SETGID to drop to its own user; callers that capture ask for them.
          CapAdd: ['NET_RAW', 'NET_ADMIN', ...extraCaps],
          Memory: 128 * 1024 * 1024,
          PidsLimit: 64,
          AutoRemove: true,
          SecurityOpt: ['no-new-privileges'],
        },
      }),
    );
    await this.call(() => c.start());
  }

  /** The image a container was created from (what a clean sidecar of the same role should use); undefined when there is no such container. */
  async imageOf(container: string): Promise<string | undefined> {
    try {
      return (await this.docker.getContainer(container).inspect()).Config.Image;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw explainDockerError(err, this.endpoint);
    }
  }

  /**
   * Runs a short shell script in the engine host's network namespace (the host seal's helper where
   * hurrynet cannot act on the host itself, such as Docker Desktop's VM): only NET_ADMIN and
   * NET_RAW, small limits, removed afterwards whatever happens.
   */
  async runOnHostNetwork(
    image: string,
    script: string,
    labels: Record<string, string>,
    timeoutMs: number,
  ): Promise<ExecResult> {
    const c = await this.call(() =>
      this.docker.createContainer({
        Image: image,
        Entrypoint: ['sh', '-c', script],
        Cmd: [],
        Labels: labels,
        HostConfig: {
          NetworkMode: 'host',
          CapDrop: ['ALL'],
          CapAdd: ['NET_ADMIN', 'NET_RAW'],
          Memory: 64 * 1024 * 1024,
          PidsLimit: 32,
          SecurityOpt: ['no-new-privileges'],
        },
      }),
    );
    try {
      await this.call(() => c.start());
      const waited = c.wait() as Promise<{ StatusCode: number }>;
      const timer = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`the host helper did not finish in ${timeoutMs} ms`)), timeoutMs).unref(),
      );
      const { StatusCode } = await Promise.race([waited, timer]);
      const out = await this.call(() => c.logs({ stdout: true, stderr: false }));
      const err = await this.call(() => c.logs({ stdout: false, stderr: true }));
      return { exitCode: StatusCode, stdout: demuxBuffer(out), stderr: demuxBuffer(err) };
    } finally {
      await this.removeContainer(c.id);
    }
  }

  /**
   * The Docker network a container has for a story link (found by the network's link label, so it
   * works for a claimed standby world whose networks keep their first name).
   */
  async networkOfLink(container: string, link: string): Promise<string | undefined> {
    const info = await this.call(() => this.docker.getContainer(container).inspect());
    const names = Object.keys(info.NetworkSettings?.Networks ?? {});
    const nets = await Promise.all(
      names.map((n) =>
        this.call(
          () => this.docker.getNetwork(n).inspect() as Promise<{ Name: string; Labels?: Record<string, string> }>,
        ),
      ),
    );
    return nets.find((n) => n.Labels?.[LABEL.link] === link)?.Name;
  }

  /**
   * Starts a throw-away probe with a network namespace of its own, attached to a lab network: a
   * fresh machine on that link that only the grader configures. Like a sidecar, it ends and
   * removes itself after lifetimeSeconds.
   */
  async startAttached(
    name: string,
    network: string,
    image: string,
    labels: Record<string, string>,
    lifetimeSeconds = 600,
  ): Promise<void> {
    const c = await this.call(() =>
      this.docker.createContainer({
        name,
        Hostname: 'probe',
        Image: image,
        Entrypoint: ['sleep'],
        Cmd: [String(lifetimeSeconds)],
        Labels: labels,
        HostConfig: {
          NetworkMode: network,
          CapDrop: ['ALL'],
          CapAdd: ['NET_RAW', 'NET_ADMIN'],
          Sysctls: { 'net.ipv6.conf.all.disable_ipv6': '1', 'net.ipv6.conf.default.disable_ipv6': '1' },
          Memory: 128 * 1024 * 1024,
          PidsLimit: 64,
          AutoRemove: true,
          SecurityOpt: ['no-new-privileges'],
        },
      }),
    );
    await this.call(() => c.start());
  }

  /** Copies a local folder's contents over a container's filesystem at dest (as root). */
  async copyDir(container: string, localDir: string, dest = '/'): Promise<void> {
    const { pack } = await import('tar-fs');
    // A folder in the tree stands for a folder that already exists on the node (/root, /tmp, /etc):
    // it must not take the checkout's mode, so the well-known ones keep Debian's.
    const modes: Record<string, number> = { root: 0o700, tmp: 0o1777, 'var/tmp': 0o1777 };
    const stream = pack(localDir, {
      map: (h) => {
        const name = h.name.replace(/^\.?\/+|\/+$/g, '');
        const mode = h.type === 'directory' && dest === '/' ? modes[name] : undefined;
        return { ...h, uid: 0, gid: 0, uname: 'root', gname: 'root', ...(mode !== undefined ? { mode } : {}) };
      },
    });
    await this.call(() =>
      this.docker.getContainer(container).putArchive(stream as unknown as NodeJS.ReadableStream, { path: dest }),
    );
  }

  /** Project-wide label selector. */
  static projectLabels(extra: Record<string, string> = {}): Record<string, string> {
    return { [LABEL.project]: projectLabelValue(), ...extra };
  }
}

/** A terminal on a node opened by Driver.terminal. */
export interface TerminalSession {
  /** What the terminal prints. */
  readonly output: Readable;
  /** Keystrokes and pasted text, as the terminal's input. */
  write(data: Buffer | string): void;
  resize(cols: number, rows: number): Promise<void>;
  /** The command's exit code once it ended (or the session was closed). */
  readonly exited: Promise<number>;
  /** Ends the session (the shell sees its terminal hang up). */
  close(): void;
}

export class NodeDiedError extends Error {
  constructor(
    message: string,
    readonly lastLines: string,
  ) {
    super(message);
  }
}

export class NodeTimeoutError extends NodeDiedError {}

/** Splits Docker's multiplexed log frames (8-byte headers) into plain text. */
export function demuxBuffer(buf: Buffer | string): string {
  if (typeof buf === 'string') return buf;
  const parts: string[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const type = buf[i];
    const size = buf.readUInt32BE(i + 4);
    if (type === undefined || type > 2 || i + 8 + size > buf.length) return buf.toString('utf8');
    parts.push(buf.subarray(i + 8, i + 8 + size).toString('utf8'));
    i += 8 + size;
  }
  return parts.join('');
}
