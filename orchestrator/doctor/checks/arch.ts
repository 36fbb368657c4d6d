// The images build from Debian for amd64 and arm64 only; what counts is the engine's machine.
import { finding, isError, ok, type Check } from '../findings.js';

const NAMES: Record<string, string> = {
  x86_64: 'amd64',
  amd64: 'amd64',
  x64: 'amd64',
  aarch64: 'arm64',
  arm64: 'arm64',
};

export const arch: Check = (inputs) => {
  const engineArch = isError(inputs.engine) ? undefined : inputs.engine.info.architecture;
  const raw = engineArch || inputs.arch;
  const name = NAMES[raw];
  const where = engineArch ? `the engine runs on ${raw}` : `this machine is ${raw} (the engine did not answer)`;
  if (name) return [ok('arch', 'Architecture', `${where}: ${name}`)];
  return [
    finding(
      'arch',
      'Architecture',
      'fail',
      `${where}: the lab images build only for amd64 and arm64`,
      'Run hurrynet on an amd64 or arm64 machine (any current PC, Mac or cloud VM).',
    ),
  ];
};
