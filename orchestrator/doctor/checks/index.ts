// Every doctor check, in the order they are shown. Each is a pure function of the recorded inputs.
import type { Check } from '../findings.js';
import { arch } from './arch.js';
import { cgroup } from './cgroup.js';
import { disk } from './disk.js';
import { dockerCli } from './docker-cli.js';
import { engine } from './engine.js';
import { images } from './images.js';
import { iptables } from './iptables.js';
import { kernel } from './kernel.js';
import { seal } from './seal.js';
import { standby } from './standby.js';
import { subnets } from './subnets.js';

export const CHECKS: Check[] = [
  dockerCli, // the docker command
  engine, // the socket, and whether the engine answers, with its version
  arch, // amd64 or arm64
  disk, // free space for the images
  cgroup, // cgroup version, memory and pids controllers
  iptables, // nf_tables or legacy, and Docker's chains in it
  kernel, // conntrack, NAT, the FTP helpers, statistic, path-MTU discovery
  seal, // the host sealed from the lab bridges
  subnets, // the subnet pool against the host's routes
  images, // the lab images built
  standby, // the standby world healthy
];
