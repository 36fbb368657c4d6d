import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { composeYaml } from '../../orchestrator/world/compose.js';
import { projectRoot } from '../../orchestrator/runtime/paths.js';
import { canonicalWorld } from '../../orchestrator/world/world.js';

describe('docker-compose.yml', () => {
  it('is in sync with the world data (regenerate with: npm run compose)', () => {
    const checkedIn = readFileSync(join(projectRoot(), 'docker-compose.yml'), 'utf8');
    expect(checkedIn).toBe(composeYaml(canonicalWorld));
  });
  it('declares every node and link with the same mechanism as the CLI', () => {
    const doc = parse(composeYaml(canonicalWorld)) as {
      services: Record<
        string,
        { environment: Record<string, string>; networks: string[]; cap_drop: string[]; pids_limit: number }
      >;
      networks: Record<string, { driver_opts: Record<string, string> }>;
    };
    expect(Object.keys(doc.services)).toEqual(canonicalWorld.nodes.map((n) => n.name));
    expect(Object.keys(doc.networks)).toEqual(canonicalWorld.links.map((l) => l.name));
    expect(doc.services.edge!.networks).toEqual(['backbone', 'vpc']);
    expect(doc.services.alice!.environment.HN_LINKS).toMatch(/^lan\|10\.250\.255\.0\/28\|192\.168\.1\.101\/24$/);
    expect(doc.services.web!.cap_drop).toEqual(['ALL']);
    expect(doc.services.web!.pids_limit).toBe(256);
    expect(doc.networks.lan!.driver_opts['com.docker.network.bridge.inhibit_ipv4']).toBe('true');
  });
  it('escapes dollars so compose does not interpolate zone file directives', () => {
    const doc = parse(composeYaml(canonicalWorld)) as {
      services: Record<string, { environment: Record<string, string> }>;
    };
    expect(doc.services.dns!.environment.HN_FILES).toContain('$$TTL 300');
  });
});
