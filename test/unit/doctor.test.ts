// Each doctor check on recorded inputs: outputs and files as they look on real machines (this
// one: Debian bookworm, Docker 20.10, cgroup v1, iptables-nft; others from their documented formats).
import { describe, expect, it } from 'vitest';
import { DockerUnavailableError, EXIT, ImageBuildError } from '../../orchestrator/errors.js';
import { arch } from '../../orchestrator/doctor/checks/arch.js';
import { cgroup } from '../../orchestrator/doctor/checks/cgroup.js';
import { disk } from '../../orchestrator/doctor/checks/disk.js';
import { dockerCli } from '../../orchestrator/doctor/checks/docker-cli.js';
import { engine, engineRelease } from '../../orchestrator/doctor/checks/engine.js';
import { images } from '../../orchestrator/doctor/checks/images.js';
import { CHECKS } from '../../orchestrator/doctor/checks/index.js';
import { backendOf, dockerChains, iptables } from '../../orchestrator/doctor/checks/iptables.js';
import { configValue, kernel, loadedModules, modulesIn } from '../../orchestrator/doctor/checks/kernel.js';
import { seal } from '../../orchestrator/doctor/checks/seal.js';
import { standby } from '../../orchestrator/doctor/checks/standby.js';
import { parseIpJsonRoutes, parseProcRoutes, subnets } from '../../orchestrator/doctor/checks/subnets.js';
import { checkAll, preflightFor } from '../../orchestrator/doctor/doctor.js';
import { exitCodeFor, type DoctorInputs, type Finding } from '../../orchestrator/doctor/findings.js';
import { socketPath } from '../../orchestrator/doctor/gather.js';
import type { Driver } from '../../orchestrator/runtime/driver.js';

// ---- recorded outputs -------------------------------------------------------------------------

const INFO = {
  serverVersion: '20.10.24+dfsg1',
  operatingSystem: 'Debian GNU/Linux 12 (bookworm)',
  kernelVersion: '6.1.0-27-amd64',
  architecture: 'x86_64',
  dockerRootDir: '/var/lib/docker',
  cgroupVersion: '1',
  cgroupDriver: 'cgroupfs',
  memoryLimit: true,
  pidsLimit: true,
  warnings: [],
  memTotal: 0,
  ncpu: 0,
};

const PROC_SELF_V1 = `9:name=systemd:/
8:pids:/
7:blkio:/
6:freezer:/
5:devices:/
4:memory:/process_api/d0b9a592560af3b20c9ada16370b59ce
3:cpuset:/
2:cpuacct:/
1:cpu:/
0::/
`;
const PROC_CGROUPS_V1 = `#subsys_name	hierarchy	num_cgroups	enabled
cpuset	3	10	1
cpu	1	10	1
cpuacct	2	10	1
blkio	7	10	1
memory	4	75	1
devices	5	10	1
freezer	6	10	1
net_cls	0	10	1
perf_event	0	10	1
net_prio	0	10	1
hugetlb	0	10	1
pids	8	10	1
`;
// A Raspberry Pi OS kernel booted without cgroup_enable=memory.
const PROC_CGROUPS_NO_MEMORY = PROC_CGROUPS_V1.replace('memory\t4\t75\t1', 'memory\t0\t75\t0');
const PROC_SELF_V2 = '0::/user.slice/user-1000.slice/session-2.scope\n';
const CONTROLLERS_V2 = 'cpuset cpu io memory hugetlb pids rdma misc\n';
// Rootless Docker without systemd delegation: only cpu and memory are handed down.
const CONTROLLERS_V2_ROOTLESS = 'cpu memory\n';

const IPTABLES_NFT_V = 'iptables v1.8.9 (nf_tables)';
const IPTABLES_LEGACY_V = 'iptables v1.8.9 (legacy)';
const IPTABLES_OLD_V = 'iptables v1.6.1';
const DOCKER_RULES = `-P INPUT ACCEPT
-P FORWARD DROP
-P OUTPUT ACCEPT
-N DOCKER
-N DOCKER-ISOLATION-STAGE-1
-N DOCKER-ISOLATION-STAGE-2
-N DOCKER-USER
-A INPUT -i hn-+ -j DROP
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A DOCKER-USER -j RETURN
`;
const EMPTY_RULES = `-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
`;

const PROC_MODULES = `nf_nat_ftp 20480 0 - Live 0x0000000000000000
nf_conntrack_ftp 24576 1 nf_nat_ftp, Live 0x0000000000000000
xt_statistic 16384 0 - Live 0x0000000000000000
xt_conntrack 16384 3 - Live 0x0000000000000000
nf_nat 57344 3 nf_nat_ftp,xt_MASQUERADE,nft_chain_nat, Live 0x0000000000000000
nf_conntrack 188416 6 nf_nat_ftp,nf_conntrack_ftp,xt_conntrack,nf_nat,xt_MASQUERADE, Live 0x0000000000000000
`;
// Ubuntu 24.04: compressed modules, listed by modules.dep.
const MODULES_DEP = `kernel/net/netfilter/nf_conntrack.ko.zst: kernel/lib/libcrc32c.ko.zst
kernel/net/netfilter/nf_conntrack_ftp.ko.zst: kernel/net/netfilter/nf_conntrack.ko.zst
kernel/net/netfilter/nf_nat.ko.zst: kernel/net/netfilter/nf_conntrack.ko.zst
kernel/net/netfilter/nf_nat_ftp.ko.zst: kernel/net/netfilter/nf_conntrack_ftp.ko.zst kernel/net/netfilter/nf_nat.ko.zst
kernel/net/netfilter/xt_statistic.ko.zst:
`;
const MODULES_BUILTIN = `kernel/net/ipv4/tcp_cubic.ko
kernel/net/unix/unix.ko
`;
// A cloud kernel with everything built in, no module support (this machine).
const CONFIG_ALL_Y = `CONFIG_NF_CONNTRACK=y
CONFIG_NF_CONNTRACK_FTP=y
CONFIG_NF_NAT=y
CONFIG_NF_NAT_FTP=y
CONFIG_NETFILTER_XT_MATCH_STATISTIC=y
`;

const IP_ROUTES = `[{"dst":"default","gateway":"192.0.2.1","dev":"eth0","flags":[]},{"dst":"10.246.0.0/24","dev":"hn2docker0","protocol":"kernel","scope":"link","prefsrc":"10.246.0.1","flags":["linkdown"]},{"dst":"172.17.0.0/16","dev":"docker0","protocol":"kernel","scope":"link","prefsrc":"172.17.0.1","flags":["linkdown"]},{"dst":"192.0.2.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"192.0.2.2","flags":[]}]`;
// A corporate VPN that routes all of 10/8, and a WireGuard peer inside the pool.
const IP_ROUTES_VPN = `[{"dst":"default","gateway":"192.168.1.1","dev":"wlp2s0","protocol":"dhcp","metric":600,"flags":[]},{"dst":"10.0.0.0/8","dev":"tun0","scope":"link","flags":[]},{"dst":"10.250.3.7","dev":"wg0","scope":"link","flags":[]}]`;
const PROC_ROUTE = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth0	00000000	010200C0	0003	0	0	0	00000000	0	0	0
hn2docker0	0000F60A	00000000	0001	0	0	0	00FFFFFF	0	0	0
docker0	000011AC	00000000	0001	0	0	0	0000FFFF	0	0	0
eth0	000200C0	00000000	0001	0	0	0	00FFFFFF	0	0	0
`;
const PROC_ROUTE_CLASH = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth0	00000000	0101A8C0	0003	0	0	0	00000000	0	0	0
tun0	0000FA0A	00000000	0001	0	0	0	0000FFFF	0	0	0
`;

/** A healthy machine: this one, with the images built and a sealed lab running. */
function healthy(): DoctorInputs {
  return {
    platform: 'linux',
    arch: 'x64',
    isRoot: true,
    dockerHost: 'unix:///var/run/docker.sock',
    engineLocal: true,
    dockerCli: 'Docker version 28.2.2, build e6534b4',
    socket: { path: '/var/run/docker.sock', exists: true, accessible: true, mode: '0660', group: 'docker' },
    engine: { version: '20.10.24+dfsg1', apiVersion: '1.41', info: { ...INFO } },
    cgroup: { procSelf: PROC_SELF_V1, procCgroups: PROC_CGROUPS_V1 },
    iptables: {
      version: IPTABLES_NFT_V,
      listings: [
        { backend: 'nf_tables', rules: DOCKER_RULES },
        { backend: 'legacy', rules: EMPTY_RULES },
      ],
    },
    kernel: {
      release: '6.1.0-27-amd64',
      procModules: PROC_MODULES,
      modulesBuiltin: MODULES_BUILTIN,
      modulesDep: MODULES_DEP,
      noPmtuDisc: '0\n',
    },
    seal: {
      ipv4Rule: 'yes',
      ipv6Rule: 'yes',
      via: 'host',
      bridges: [{ name: 'hn-0123456789ab', noarp: true, addresses: [] }],
    },
    sealOff: false,
    subnets: {
      pool: '10.250.0.0/16',
      routes: { format: 'json', text: IP_ROUTES },
      engineSubnets: ['172.17.0.0/16'],
    },
    disk: { path: '/var/lib/docker', freeBytes: 80e9 },
    images: { missing: [], expected: 6, rootPresent: true },
    standby: {
      enabled: true,
      worlds: [{ instance: 'standby-9717de', healthy: true, current: true, world: 'abc' }],
    },
  };
}

const byId = (findings: Finding[], id: string): Finding => {
  const f = findings.find((x) => x.id === id);
  if (!f) throw new Error(`no finding ${id} in ${findings.map((x) => x.id).join(', ')}`);
  return f;
};
const one = (findings: Finding[]): Finding => {
  expect(findings).toHaveLength(1);
  return findings[0] as Finding;
};

// ---- the whole doctor -------------------------------------------------------------------------

describe('the doctor on a healthy machine', () => {
  const findings = checkAll(healthy());
  it('finds everything ok, each with an id, a title, a detail and a fix sentence', () => {
    expect(findings.filter((f) => f.status !== 'ok')).toEqual([]);
    for (const f of findings) {
      expect(f.id).toMatch(/^[a-z][a-z0-9.-]*$/);
      expect(f.title).not.toBe('');
      expect(f.detail).not.toBe('');
      expect(f.fix).toMatch(/^[A-Z].*\.$/);
    }
    expect(new Set(findings.map((f) => f.id)).size).toBe(findings.length);
  });
  it('runs every check listed in the index, and each says something', () => {
    for (const check of CHECKS) expect(check(healthy()).length).toBeGreaterThan(0);
    expect(exitCodeFor(findings)).toBe(EXIT.ok);
  });
});

describe('the exit code', () => {
  const f = (status: Finding['status']): Finding => ({ id: 'x', title: 'x', status, detail: 'd', fix: 'F.' });
  it('is 0 unless something fails: warnings and unknowns do not stop a lab', () => {
    expect(exitCodeFor([])).toBe(EXIT.ok);
    expect(exitCodeFor([f('ok'), f('warn'), f('unknown')])).toBe(EXIT.ok);
    expect(exitCodeFor([f('ok'), f('fail')])).toBe(EXIT.failure);
  });
  it('fails the whole doctor when the engine is away', () => {
    const inputs = { ...healthy(), engine: { error: 'cannot reach the Docker engine at unix:///x (ENOENT)' } };
    expect(exitCodeFor(checkAll(inputs))).toBe(EXIT.failure);
  });
});

// ---- engine, socket, CLI, architecture, disk ---------------------------------------------------

describe('engine and socket', () => {
  it('reports the version and where the engine runs', () => {
    const f = byId(engine(healthy()), 'engine');
    expect(f.status).toBe('ok');
    expect(f.detail).toMatch(/Docker 20\.10\.24\+dfsg1 \(API 1\.41\).*on this machine/);
  });
  it('fails a missing socket with advice to start the engine or set DOCKER_HOST', () => {
    const i = healthy();
    i.socket = { path: '/tmp/none.sock', exists: false, accessible: false };
    i.engine = { error: 'cannot reach the Docker engine at unix:///tmp/none.sock (ENOENT). Start it ...' };
    const findings = engine(i);
    expect(byId(findings, 'docker-socket')).toMatchObject({ status: 'fail' });
    expect(byId(findings, 'docker-socket').fix).toMatch(/Start the engine.*DOCKER_HOST/);
    const e = byId(findings, 'engine');
    expect(e.status).toBe('fail');
    expect(e.detail).toMatch(/ENOENT/);
    expect(e.fix).toMatch(/Start the engine/);
  });
  it('tells a socket that is not ours apart, with the docker group', () => {
    const i = healthy();
    i.socket = { path: '/var/run/docker.sock', exists: true, accessible: false, mode: '0660', group: 'docker' };
    i.engine = { error: 'permission denied on the Docker socket /var/run/docker.sock' };
    const findings = engine(i);
    expect(byId(findings, 'docker-socket')).toMatchObject({ status: 'fail' });
    expect(byId(findings, 'docker-socket').detail).toMatch(/mode 0660, group docker/);
    expect(byId(findings, 'docker-socket').fix).toMatch(/usermod -aG docker/);
    expect(byId(findings, 'engine').fix).toMatch(/usermod -aG docker/);
  });
  it('warns about engines older than any tested, and notes newer ones', () => {
    const old = healthy();
    old.engine = { version: '19.03.13', apiVersion: '1.40', info: INFO };
    expect(byId(engine(old), 'engine').status).toBe('warn');
    const newer = healthy();
    newer.engine = { version: '28.0.1', apiVersion: '1.48', info: INFO };
    expect(byId(engine(newer), 'engine')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/newer/) });
    expect(engineRelease('26.1.5+dfsg1')).toEqual([26, 1]);
  });
  it('reads the socket from DOCKER_HOST', () => {
    expect(socketPath('unix:///var/run/docker.sock')).toBe('/var/run/docker.sock');
    expect(socketPath('tcp://10.0.0.5:2376')).toBeUndefined();
  });
  it('only warns without the docker command: hurrynet speaks the API itself', () => {
    expect(one(dockerCli({ ...healthy(), dockerCli: { error: 'spawn docker ENOENT' } })).status).toBe('warn');
  });
});

describe('architecture', () => {
  it('accepts amd64 and arm64, by the engine when it answers', () => {
    expect(one(arch(healthy())).status).toBe('ok');
    const pi = healthy();
    pi.engine = { version: '26.1.5', apiVersion: '1.45', info: { ...INFO, architecture: 'aarch64' } };
    expect(one(arch(pi)).detail).toMatch(/arm64/);
  });
  it('fails other architectures', () => {
    const i = healthy();
    i.engine = { version: '20.10.24', apiVersion: '1.41', info: { ...INFO, architecture: 'armv7l' } };
    expect(one(arch(i))).toMatchObject({ status: 'fail', fix: expect.stringMatching(/amd64 or arm64/) });
    expect(one(arch({ ...healthy(), engine: { error: 'x' }, arch: 'riscv64' })).status).toBe('fail');
  });
});

describe('free disk', () => {
  it('needs 1.5 GB before the images are built, less after', () => {
    const small = { ...healthy(), disk: { path: '/var/lib/docker', freeBytes: 1.0e9 } };
    expect(one(disk(small)).status).toBe('ok');
    const unbuilt = { ...small, images: { missing: ['hurrynet/base:abc'], expected: 6, rootPresent: true } };
    expect(one(disk(unbuilt))).toMatchObject({ status: 'fail', fix: expect.stringMatching(/prune/) });
    expect(one(disk({ ...healthy(), disk: { path: '/var/lib/docker', freeBytes: 0.2e9 } })).status).toBe('warn');
  });
  it('says unknown for an engine elsewhere', () => {
    expect(one(disk({ ...healthy(), engineLocal: false, disk: { error: 'remote' } })).status).toBe('unknown');
  });
});

// ---- cgroups ----------------------------------------------------------------------------------

describe('cgroups', () => {
  it('reads v1 with the memory and pids controllers', () => {
    expect(one(cgroup(healthy()))).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/cgroup v1, cgroupfs/),
    });
  });
  it('reads v2 from this machine when the engine is silent', () => {
    const i = { ...healthy(), engine: { error: 'x' }, cgroup: { procSelf: PROC_SELF_V2, controllers: CONTROLLERS_V2 } };
    expect(one(cgroup(i))).toMatchObject({ status: 'ok', detail: expect.stringMatching(/cgroup v2/) });
  });
  it('warns when v2 does not delegate pids (rootless without systemd delegation)', () => {
    const i = {
      ...healthy(),
      engine: { error: 'x' },
      cgroup: { procSelf: PROC_SELF_V2, controllers: CONTROLLERS_V2_ROOTLESS },
    };
    expect(one(cgroup(i))).toMatchObject({ status: 'warn', detail: expect.stringMatching(/no pids controller/) });
    expect(one(cgroup(i)).fix).toMatch(/Delegate/);
  });
  it('warns on v1 with the memory controller disabled', () => {
    const i = {
      ...healthy(),
      engine: { error: 'x' },
      cgroup: { procSelf: PROC_SELF_V1, procCgroups: PROC_CGROUPS_NO_MEMORY },
    };
    expect(one(cgroup(i))).toMatchObject({ status: 'warn', fix: expect.stringMatching(/cgroup_enable=memory/) });
  });
  it("believes the engine's own view of its limits", () => {
    const i = healthy();
    i.engine = { version: '26.1.5', apiVersion: '1.45', info: { ...INFO, cgroupVersion: '2', pidsLimit: false } };
    expect(one(cgroup(i))).toMatchObject({ status: 'warn', detail: expect.stringMatching(/v2.*no pids/) });
  });
  it('says unknown when nothing is readable', () => {
    expect(one(cgroup({ ...healthy(), engine: { error: 'x' }, cgroup: {} })).status).toBe('unknown');
  });
});

// ---- iptables ---------------------------------------------------------------------------------

describe('iptables backend', () => {
  it('names the backend from iptables -V', () => {
    expect(backendOf(IPTABLES_NFT_V)).toBe('nf_tables');
    expect(backendOf(IPTABLES_LEGACY_V)).toBe('legacy');
    expect(backendOf(IPTABLES_OLD_V)).toBe('legacy');
    expect(dockerChains(DOCKER_RULES)).toEqual({ docker: true, dockerUser: true });
    expect(dockerChains(EMPTY_RULES)).toEqual({ docker: false, dockerUser: false });
  });
  it("is ok when Docker's chains are in the backend iptables uses", () => {
    expect(one(iptables(healthy()))).toMatchObject({ status: 'ok', detail: expect.stringMatching(/nf_tables/) });
  });
  it('warns when Docker writes to the other backend', () => {
    const i = healthy();
    i.iptables = {
      version: IPTABLES_NFT_V,
      listings: [
        { backend: 'nf_tables', rules: EMPTY_RULES },
        { backend: 'legacy', rules: DOCKER_RULES },
      ],
    };
    expect(one(iptables(i))).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/legacy backend/),
      fix: expect.stringMatching(/update-alternatives/),
    });
  });
  it('warns when neither backend has them (--iptables=false or native nftables)', () => {
    const i = healthy();
    i.iptables = { version: IPTABLES_LEGACY_V, listings: [{ backend: 'legacy', rules: EMPTY_RULES }] };
    expect(one(iptables(i))).toMatchObject({ status: 'warn', detail: expect.stringMatching(/neither/) });
  });
  it('says unknown without root, and warns without iptables at all', () => {
    const i = healthy();
    i.iptables = { version: IPTABLES_NFT_V, listings: [{ backend: 'nf_tables', rules: { error: 'needs root' } }] };
    expect(one(iptables(i))).toMatchObject({ status: 'unknown', fix: expect.stringMatching(/sudo/) });
    expect(one(iptables({ ...healthy(), iptables: { version: 'missing', listings: [] } })).status).toBe('warn');
    expect(one(iptables({ ...healthy(), engineLocal: false })).status).toBe('unknown');
  });
});

// ---- kernel -----------------------------------------------------------------------------------

describe('kernel features', () => {
  it('parses the module lists and the config', () => {
    expect(loadedModules(PROC_MODULES).has('nf_conntrack_ftp')).toBe(true);
    expect(modulesIn(MODULES_DEP)).toEqual(
      new Set(['nf_conntrack', 'nf_conntrack_ftp', 'nf_nat', 'nf_nat_ftp', 'xt_statistic']),
    );
    expect(configValue(CONFIG_ALL_Y, 'CONFIG_NF_NAT')).toBe('y');
    expect(configValue('# CONFIG_NF_NAT_FTP is not set\n', 'CONFIG_NF_NAT_FTP')).toBe('n');
    expect(configValue(CONFIG_ALL_Y, 'CONFIG_NF_TABLES')).toBeUndefined();
  });
  it('finds loaded modules', () => {
    const findings = kernel(healthy());
    expect(findings.map((f) => f.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    expect(byId(findings, 'kernel.ftp-helper').detail).toMatch(/loaded/);
  });
  it('accepts loadable modules (the kernel loads them on first use)', () => {
    const i = healthy();
    i.kernel = {
      release: '6.8.0-45-generic',
      procModules: '',
      modulesBuiltin: MODULES_BUILTIN,
      modulesDep: MODULES_DEP,
    };
    const f = byId(kernel(i), 'kernel.statistic');
    expect(f).toMatchObject({ status: 'ok', detail: expect.stringMatching(/loadable/) });
    expect(f.fix).toMatch(/modprobe xt_statistic/);
  });
  it('reads a kernel without modules from its config (this machine: no /proc/modules)', () => {
    const i = healthy();
    i.kernel = { release: '6.18.44', config: CONFIG_ALL_Y, noPmtuDisc: '0' };
    expect(kernel(i).every((f) => f.status === 'ok')).toBe(true);
  });
  it('fails a kernel without the FTP helper (every world uses it), warns without statistic', () => {
    const i = healthy();
    const without = (names: string[]) =>
      MODULES_DEP.split('\n')
        .filter((l) => !names.some((n) => l.startsWith(`kernel/net/netfilter/${n}.ko`)))
        .join('\n');
    i.kernel = {
      release: '6.1.0-custom',
      procModules: '',
      modulesBuiltin: '',
      modulesDep: without(['nf_conntrack_ftp', 'nf_nat_ftp', 'xt_statistic']),
      noPmtuDisc: '0',
    };
    const findings = kernel(i);
    expect(byId(findings, 'kernel.ftp-helper')).toMatchObject({
      status: 'fail',
      fix: expect.stringMatching(/modprobe/),
    });
    expect(byId(findings, 'kernel.nat-ftp').status).toBe('warn');
    expect(byId(findings, 'kernel.statistic')).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/lab 09/),
    });
    expect(byId(findings, 'kernel.conntrack').status).toBe('ok');
    expect(exitCodeFor(findings)).toBe(EXIT.failure);
  });
  it('says unknown where nothing is readable, and on an engine elsewhere (Docker Desktop)', () => {
    const bare = kernel({ ...healthy(), kernel: { release: '6.6.0' } });
    expect(bare.map((f) => f.status)).toEqual(['unknown', 'unknown', 'unknown', 'unknown', 'unknown', 'unknown']);
    for (const f of bare) expect(f.fix).not.toBe('');
    const desktop = kernel({ ...healthy(), engineLocal: false, dockerHost: 'unix:///Users/a/.docker/run/docker.sock' });
    expect(desktop.every((f) => f.status === 'unknown' && /does not run on this machine's kernel/.test(f.detail))).toBe(
      true,
    );
  });
  it('warns when the host turns path-MTU discovery off', () => {
    const i = healthy();
    i.kernel = { ...(i.kernel as NonNullable<DoctorInputs['kernel']>), noPmtuDisc: '1\n' };
    expect(byId(kernel(i), 'kernel.pmtu')).toMatchObject({ status: 'warn', fix: expect.stringMatching(/sysctl/) });
  });
});

// ---- seal -------------------------------------------------------------------------------------

describe('host seal', () => {
  it('is ok when sealed', () => {
    expect(one(seal(healthy()))).toMatchObject({ status: 'ok', detail: expect.stringMatching(/sealed/) });
  });
  it('warns when a running lab is unsealed, and says grade will refuse', () => {
    const i = healthy();
    i.seal = {
      ipv4Rule: 'no',
      ipv6Rule: 'no',
      via: 'container',
      bridges: [{ name: 'hn-ba9876543210', noarp: false, addresses: ['fe80::42:8aff:fe62:e63d/64'] }],
    };
    const f = one(seal(i));
    expect(f.status).toBe('warn');
    expect(f.detail).toMatch(/answers ARP.*fe80::/);
    expect(f.fix).toMatch(/--allow-unsealed/);
  });
  it('is ok before any lab ran: up, lab and grade install the rules', () => {
    const i = {
      ...healthy(),
      seal: { ipv4Rule: 'no' as const, ipv6Rule: 'no' as const, via: 'host' as const, bridges: [] },
    };
    expect(one(seal(i))).toMatchObject({ status: 'ok', detail: expect.stringMatching(/not installed yet/) });
  });
  it('says unknown when it cannot look, and warns when turned off', () => {
    expect(one(seal({ ...healthy(), seal: { error: 'no such image' } })).status).toBe('unknown');
    expect(one(seal({ ...healthy(), sealOff: true }))).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/HURRYNET_SEAL=0/),
    });
  });
});

// ---- subnets ----------------------------------------------------------------------------------

describe('subnet pool and routes', () => {
  it('parses ip -j route and /proc/net/route alike', () => {
    const fromJson = parseIpJsonRoutes(IP_ROUTES);
    const fromProc = parseProcRoutes(PROC_ROUTE);
    expect(fromProc).toEqual(fromJson.map((r) => ({ dst: r.dst, dev: r.dev })));
    expect(fromProc.map((r) => r.dst)).toEqual(['0.0.0.0/0', '10.246.0.0/24', '172.17.0.0/16', '192.0.2.0/24']);
    expect(parseIpJsonRoutes(IP_ROUTES_VPN).map((r) => r.dst)).toContain('10.250.3.7/32');
  });
  it('is ok when no route overlaps the pool', () => {
    expect(one(subnets(healthy())).status).toBe('ok');
    const proc = healthy();
    proc.subnets = { pool: '10.250.0.0/16', routes: { format: 'proc', text: PROC_ROUTE }, engineSubnets: [] };
    expect(one(subnets(proc)).status).toBe('ok');
  });
  it('warns about a VPN over the pool and proposes a free one', () => {
    const i = healthy();
    i.subnets = { pool: '10.250.0.0/16', routes: { format: 'json', text: IP_ROUTES_VPN }, engineSubnets: [] };
    const f = one(subnets(i));
    expect(f.status).toBe('warn');
    expect(f.detail).toMatch(/10\.0\.0\.0\/8 \(tun0\).*10\.250\.3\.7\/32 \(wg0\)/);
    expect(f.fix).toMatch(/HURRYNET_SUBNET_POOL=172\.30\.0\.0\/16/);
    const proc = healthy();
    proc.subnets = { pool: '10.250.0.0/16', routes: { format: 'proc', text: PROC_ROUTE_CLASH }, engineSubnets: [] };
    expect(one(subnets(proc))).toMatchObject({ status: 'warn', fix: expect.stringMatching(/10\.251\.0\.0\/16/) });
  });
  it("does not count the engine's own bridges nor lab bridges", () => {
    const i = healthy();
    const routes = `[{"dst":"10.250.0.0/28","dev":"hn-0123456789ab"},{"dst":"10.250.1.0/24","dev":"br-5d2c"}]`;
    i.subnets = { pool: '10.250.0.0/16', routes: { format: 'json', text: routes }, engineSubnets: ['10.250.1.0/24'] };
    expect(one(subnets(i)).status).toBe('ok');
  });
  it('fails a pool that is not a prefix', () => {
    const i = healthy();
    i.subnets = { pool: '10.250.0.0', routes: { format: 'json', text: '[]' }, engineSubnets: [] };
    expect(one(subnets(i)).status).toBe('fail');
  });
});

// ---- images and standby -----------------------------------------------------------------------

describe('images and the standby world', () => {
  it('warns about unbuilt images with the command that builds them', () => {
    const i = { ...healthy(), images: { missing: ['hurrynet/web:1a2b'], expected: 6, rootPresent: false } };
    expect(one(images(i))).toMatchObject({ status: 'warn', fix: expect.stringMatching(/hurrynet build/) });
    expect(one(images({ ...healthy(), images: { error: 'engine away' } })).status).toBe('unknown');
  });
  it('warns about a standby world that is broken or stale, not about none', () => {
    const broken = healthy();
    broken.standby = {
      enabled: true,
      worlds: [{ instance: 'standby-aa', healthy: false, current: true, world: 'x' }],
    };
    expect(one(standby(broken))).toMatchObject({ status: 'warn', fix: expect.stringMatching(/standby --remove/) });
    const stale = healthy();
    stale.standby = { enabled: true, worlds: [{ instance: 'standby-bb', healthy: true, current: false, world: 'x' }] };
    expect(one(standby(stale)).detail).toMatch(/older images/);
    expect(one(standby({ ...healthy(), standby: { enabled: true, worlds: [] } })).status).toBe('ok');
    expect(one(standby({ ...healthy(), standby: { enabled: false, worlds: [] } })).detail).toMatch(/turned off/);
  });
});

describe('the fast form', () => {
  it('has only the engine findings when the rest was not gathered', () => {
    const h = healthy();
    const fast: DoctorInputs = {
      platform: h.platform,
      arch: h.arch,
      isRoot: h.isRoot,
      dockerHost: h.dockerHost,
      engineLocal: h.engineLocal,
      dockerCli: h.dockerCli,
      socket: h.socket,
      engine: h.engine,
      disk: h.disk,
    };
    expect(checkAll(fast).map((f) => f.id)).toEqual(['docker-cli', 'docker-socket', 'engine', 'arch', 'disk']);
  });
});

describe('the fast form under a failed command', () => {
  const away = () =>
    ({
      version: () => Promise.reject(new DockerUnavailableError('cannot reach the Docker engine (ENOENT)')),
      info: () => Promise.reject(new DockerUnavailableError('cannot reach the Docker engine (ENOENT)')),
    }) as unknown as Driver;
  it('explains an unreachable engine under up, lab, grade and build', async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'unix:///nonexistent/hurrynet-doctor.sock';
    try {
      const shown = await preflightFor('up', new DockerUnavailableError('x'), away);
      expect(shown?.length).toBeGreaterThan(0);
      expect(shown?.every((f) => f.status !== 'ok')).toBe(true);
      // The missing socket says it all: the engine's own failure is not repeated.
      expect(shown?.map((f) => f.id)).toEqual(['docker-socket']);
      expect(await preflightFor('grade', new ImageBuildError('hurrynet/base:1', 'no space left'), away)).toBeDefined();
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });
  it('stays out of other commands and other errors', async () => {
    expect(await preflightFor('status', new DockerUnavailableError('x'), away)).toBeUndefined();
    expect(await preflightFor('up', new Error('node web exited during start'), away)).toBeUndefined();
  });
});
