// A lab's witnesses (LabDefinition.witnesses): grader-owned captures started when the lab's world
// is ready and kept for its life. Each is a sidecar in one node's network namespace only (its own
// filesystem and processes, the project's tcpdump), so nothing the learner does on the nodes can
// read, stop or rewrite what it recorded. tcpdump is the sidecar's own process: a witness that
// stopped capturing is a witness that is gone, and checks then say inconclusive.
import { randomBytes } from 'node:crypto';
import { Driver } from '../runtime/driver.js';
import { imageSet } from '../runtime/images.js';
import { loadScale } from '../runtime/load.js';
import { containerName, LABEL, PROJECT } from '../runtime/plan.js';
import type { WitnessSpec } from './lab.js';

/** Longer than any lab session; the sidecar ends by itself after it, and `stop` removes it before. */
export const WITNESS_SECONDS = 12 * 3600;
export const WITNESS_DIR = '/tmp/hn-witness';
export const WITNESS_PCAP = `${WITNESS_DIR}/capture.pcap`;
const WITNESS_LABEL = 'io.hurrynet.witness';

/** A witness's labels: the instance's (so `stop` and `clean` remove it), and kind probe (not part of the world). */
export function witnessLabels(instance: string, node: string): Record<string, string> {
  return Driver.projectLabels({
    [LABEL.instance]: instance,
    [LABEL.kind]: 'probe',
    [LABEL.node]: node,
    [WITNESS_LABEL]: 'yes',
  });
}

/** The witness's one process: tcpdump, losing nothing (see the journey's captures), for WITNESS_SECONDS. */
export function witnessCommand(spec: WitnessSpec, seconds = WITNESS_SECONDS): string[] {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return [
    'sh',
    '-c',
    [
      `mkdir -p ${WITNESS_DIR}`,
      `exec timeout ${seconds} tcpdump -Z root -U --immediate-mode -B 4096 -nn -s 0 -i ${q(spec.iface ?? 'any')} -w ${WITNESS_PCAP} ${q(spec.filter)} 2> ${WITNESS_DIR}/tcpdump.err`,
    ].join(' && '),
  ];
}

/** Starts one witness and waits until its tcpdump listens; throws when it does not. */
async function startWitness(driver: Driver, instance: string, spec: WitnessSpec): Promise<string> {
  const name = `${PROJECT}-${instance}-witness-${spec.node}-${randomBytes(3).toString('hex')}`;
  await driver.startSidecar(
    name,
    containerName(instance, spec.node),
    imageSet().base,
    witnessLabels(instance, spec.node),
    WITNESS_SECONDS,
    ['SETUID', 'SETGID'],
    { command: witnessCommand(spec) },
  );
  const wait = Math.ceil(15 * loadScale());
  const r = await driver
    .exec(
      name,
      [
        'sh',
        '-c',
        `for i in $(seq 1 ${wait * 20}); do grep -q 'listening on' ${WITNESS_DIR}/tcpdump.err 2>/dev/null && exit 0; sleep 0.05; done; cat ${WITNESS_DIR}/tcpdump.err 2>/dev/null; exit 1`,
      ],
      { timeoutMs: (wait + 10) * 1000 },
    )
    .catch((err: Error) => ({ exitCode: -1, stdout: '', stderr: err.message }));
  if (r.exitCode !== 0) {
    await driver.removeContainer(name).catch(() => undefined);
    throw new Error(`tcpdump did not start listening: ${(r.stdout + r.stderr).trim() || 'no word from it'}`);
  }
  return name;
}

/**
 * Starts the lab's witnesses. Never throws: a witness that does not start is reported through
 * `warn` and the lab goes on (the checks that need it say inconclusive).
 */
export async function startWitnesses(
  driver: Driver,
  instance: string,
  specs: WitnessSpec[],
  warn: (message: string) => void = (m) => console.warn(m),
): Promise<string[]> {
  const started = await Promise.all(
    specs.map((spec) =>
      startWitness(driver, instance, spec).catch((err: Error) => {
        warn(
          `warning: the grader's witness on ${spec.node} did not start (${err.message}); checks that need it will be inconclusive`,
        );
        return undefined;
      }),
    ),
  );
  return started.filter((n): n is string => n !== undefined);
}

/** The running witness of an instance on a node (its container name), if there is one. */
export async function findWitness(driver: Driver, instance: string, node: string): Promise<string | undefined> {
  const list = await driver.listContainers(witnessLabels(instance, node));
  return list.find((c) => c.state === 'running')?.name.replace(/^\//, '');
}

/** Reads a witness's capture so far as a pcap file (empty before its first packet: tcpdump buffers the header). */
export async function readWitness(driver: Driver, container: string, timeoutMs = 30000): Promise<Buffer> {
  const r = await driver.exec(container, ['base64', '-w', '0', WITNESS_PCAP], {
    timeoutMs,
    maxOutputBytes: 256 * 1024 * 1024,
  });
  if (r.exitCode !== 0)
    throw new Error(`the witness's capture could not be read: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
  return Buffer.from(r.stdout.trim(), 'base64');
}
