// The engine: its socket (present, and ours to use) and whether it answers, with its version.
import { finding, isError, ok, type Check, type DoctorInputs, type Finding } from '../findings.js';

/** The oldest engine the suite ran on, and the newest (README "Engines and cgroups"). */
export const OLDEST_TESTED = [20, 10] as const;
export const NEWEST_TESTED = [26, 1] as const;

const START = 'Start the engine (sudo systemctl start docker, or open Docker Desktop)';
const GROUP = 'add yourself to the docker group (sudo usermod -aG docker $USER, then log in again), or run as root';

function socketFinding(socket: NonNullable<DoctorInputs['socket']>): Finding {
  const title = 'Docker socket';
  if (!socket.exists)
    return finding(
      'docker-socket',
      title,
      'fail',
      `no socket at ${socket.path}: no engine is running here, or it listens elsewhere`,
      `${START}, install it with npm run setup, or point DOCKER_HOST at its socket (unix:///path/to/docker.sock).`,
    );
  if (!socket.accessible)
    return finding(
      'docker-socket',
      title,
      'fail',
      `${socket.path} (mode ${socket.mode ?? '?'}, group ${socket.group ?? '?'}) is not readable and writable by you`,
      socket.group && socket.group !== 'root' && !/^\d+$/.test(socket.group)
        ? `Give yourself access to the socket: add yourself to its group (sudo usermod -aG ${socket.group} $USER, then log in again), or run as root.`
        : `Give yourself access to the socket: ${GROUP}.`,
    );
  return ok('docker-socket', title, `${socket.path} is readable and writable by you`);
}

/** [major, minor] of "20.10.24+dfsg1", "26.1.5+dfsg1", "28.0.1". */
export function engineRelease(version: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(version);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function older(a: readonly [number, number], b: readonly [number, number]): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

export const engine: Check = (inputs) => {
  const out: Finding[] = [];
  if (inputs.socket) out.push(socketFinding(inputs.socket));
  const title = 'Docker engine';
  if (isError(inputs.engine)) {
    const denied =
      /permission denied/i.test(inputs.engine.error) || (inputs.socket?.exists === true && !inputs.socket.accessible);
    out.push(
      finding(
        'engine',
        title,
        'fail',
        `no Docker engine answers: ${inputs.engine.error.split('. ')[0]}`,
        denied
          ? `The engine refused you: ${GROUP}.`
          : `${START}; if it runs elsewhere, point DOCKER_HOST at it (now ${inputs.dockerHost}).`,
      ),
    );
    return out;
  }
  const { version, apiVersion, info } = inputs.engine;
  const where = inputs.engineLocal ? 'on this machine' : `elsewhere (kernel ${info.kernelVersion || '?'})`;
  const detail = `Docker ${version} (API ${apiVersion}) on ${info.operatingSystem || '?'}, ${where}`;
  const release = engineRelease(version);
  if (release && older(release, OLDEST_TESTED))
    out.push(
      finding(
        'engine',
        title,
        'warn',
        `${detail}: older than any engine hurrynet is tested on (${OLDEST_TESTED.join('.')} and ${NEWEST_TESTED.join('.')})`,
        'Upgrade Docker to 20.10 or newer (Debian bookworm docker.io, or Docker CE).',
      ),
    );
  else
    out.push(
      ok(
        'engine',
        title,
        release && older(NEWEST_TESTED, release)
          ? `${detail} (newer than the engines tested, ${OLDEST_TESTED.join('.')} and ${NEWEST_TESTED.join('.')}; docs/engines.md)`
          : detail,
      ),
    );
  return out;
};
