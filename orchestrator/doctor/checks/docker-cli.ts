// The docker command itself. hurrynet talks to the engine's API without it, so its absence is
// only a warning: the setup, the docs and docker-compose use it.
import { finding, isError, ok, type Check } from '../findings.js';

export const dockerCli: Check = (inputs) => {
  const title = 'Docker CLI';
  if (isError(inputs.dockerCli))
    return [
      finding(
        'docker-cli',
        title,
        'warn',
        `no working docker command (${inputs.dockerCli.error}); hurrynet itself talks to the engine's API, but the docs and docker-compose use it`,
        'Install the Docker CLI: npm run setup installs docker.io on Debian/Ubuntu, Docker Desktop brings its own.',
      ),
    ];
  return [ok('docker-cli', title, inputs.dockerCli.trim())];
};
