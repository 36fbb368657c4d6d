// What every command module gets from buildProgram: the Docker driver (made only when an action
// needs it, so that tests and --help never touch Docker) and the shared --instance option.
import type { Option } from 'commander';
import type { Driver } from '../runtime/driver.js';
import { instanceOption } from './options.js';

export interface Cli {
  driver(): Driver;
  instanceOption(): Option;
}

export function cliContext(driverFactory: () => Driver): Cli {
  return { driver: driverFactory, instanceOption };
}
