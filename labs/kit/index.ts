// The lab kit: what every lab needs and none should write again. A lab imports from here (and
// from checks/ for the check vocabulary and probes); see docs/labs.md. By concern: world facts
// (world.ts), service logs (logs.ts), fault builders (faults.ts), nonces, DNS (dns.ts), Bob's web
// site (web.ts), programs on nodes (programs.ts), firewalls (firewall.ts), routing: every table,
// every rule, both iptables halves (routing.ts), and a lab's own certificate authority (x509.ts).
export { addressOf, addressesOf, bare, cidrOf, nodeOf } from './world.js';
export { accessEntriesWith, jsonLines, readAccessLog, readJsonLog, type AccessEntry } from './logs.js';
export { heredoc, startService, writeFile } from './faults.js';
export { nonce } from './nonce.js';
export { FILES } from '../../orchestrator/world/files.js';
export {
  defineLab,
  draws,
  type Fault,
  type LabDefinition,
  type Question,
  type Rng,
} from '../../orchestrator/labs/lab.js';
export { canonicalWorld, type World } from '../../orchestrator/world/world.js';
export * from './dns.js';
export * from './web.js';
export * from './programs.js';
export * from './firewall.js';
export * from './routing.js';
export * from './x509.js';
