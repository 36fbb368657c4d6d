// The host seal (docs/seal.md): one iptables and one ip6tables rule drop what hn-+ bridges deliver
// to the host, and each lab bridge answers no ARP and holds no address. Unsealed is a warning:
// a learner on their own laptop may go on, but grade refuses without --allow-unsealed.
import { sealProblems } from '../../runtime/seal.js';
import { finding, isError, ok, type Check } from '../findings.js';

const RULES = 'sudo iptables -I INPUT 1 -i hn-+ -j DROP and sudo ip6tables -I INPUT 1 -i hn-+ -j DROP';
const GRADE = 'grade refuses an unsealed host unless --allow-unsealed is given';

export const seal: Check = (inputs) => {
  const id = 'seal';
  const title = 'host seal';
  if (inputs.seal === undefined) return [];
  if (inputs.sealOff)
    return [
      finding(
        id,
        title,
        'warn',
        'HURRYNET_SEAL=0 turns the host seal off: a root user in a lab could reach this machine’s own services',
        `Unset HURRYNET_SEAL unless you are experimenting; ${GRADE}.`,
      ),
    ];
  if (isError(inputs.seal))
    return [
      finding(
        id,
        title,
        'unknown',
        `the host's rules could not be inspected: ${inputs.seal.error}`,
        `Run hurrynet doctor as root on Linux (or with the engine and images ready, for the helper container); ${GRADE}.`,
      ),
    ];
  const state = inputs.seal;
  const problems = sealProblems(state);
  const via =
    state.via === 'host' ? 'on the host' : 'through a helper container in the engine host’s network namespace';
  const running = state.bridges.filter((b) => !b.missing).length;
  if (!problems.length)
    return [
      ok(
        id,
        title,
        `sealed (checked ${via}): the INPUT rules are in place${running ? ` and ${running} lab bridge(s) answer no ARP and hold no address` : ''}`,
      ),
    ];
  // Before any lab runs the rules are simply not installed yet: up, lab and grade install them
  // before a node starts, in the same way as the inspection just ran, so that is not a problem.
  if (!running && state.ipv4Rule !== 'yes')
    return [
      ok(
        id,
        title,
        `not installed yet (no lab is running); up, lab and grade install the INPUT rules ${via} before any node starts`,
        `Nothing to do; to install them now: ${RULES}.`,
      ),
    ];
  return [
    finding(
      id,
      title,
      'warn',
      `not sealed: ${problems.join('; ')}. A root user in a lab could reach this machine's own services`,
      `Restart the lab as root on Linux (hurrynet lab N --reset), which seals it, or install the rules yourself: ${RULES}; ${GRADE}.`,
    ),
  ];
};
