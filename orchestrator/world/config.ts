// Renders a node's world data into what its entrypoint (hurrynet-init) consumes: service config
// files and the iptables rules for NAT and the security group. Pure functions of the world.
import type { AllowRule, BgpSpeaker, Firewall, NatRule, Node, World, Zone } from './world.js';
import { FILES } from './files.js';

export interface NodeFile {
  path: string;
  content: string;
}

function dnsmasqConf(world: World, node: Node): string {
  const { dhcp, resolver } = world.settings;
  const lines = [
    '# hurrynet: home router DHCP server and caching DNS forwarder',
    'no-resolv',
    'no-hosts',
    'bind-dynamic',
    `server=${resolver.upstream}`,
    `cache-size=${resolver.cacheSize}`,
    `log-facility=${FILES.dnsmasqLog}`,
    'log-queries',
  ];
  if (node.interfaces.some((i) => i.link === dhcp.link)) {
    lines.push(
      `interface=${dhcp.link}`,
      `dhcp-range=${dhcp.rangeStart},${dhcp.rangeEnd},${dhcp.leaseSeconds}`,
      `dhcp-option=option:router,${dhcp.router}`,
      `dhcp-option=option:dns-server,${dhcp.dns}`,
      `dhcp-leasefile=${FILES.dnsmasqLeases}`,
      'dhcp-authoritative',
      'log-dhcp',
    );
  }
  return lines.join('\n') + '\n';
}

export function zoneFile(zone: Zone, serial = 2024010101): string {
  const lines = [
    `$ORIGIN ${zone.name}.`,
    `$TTL ${zone.ttl}`,
    `@ IN SOA ns.bob.example. hostmaster.${zone.name}. ( ${serial} 3600 600 86400 ${zone.ttl} )`,
  ];
  for (const r of zone.records) {
    const value = r.type === 'TXT' ? `"${r.value.replace(/"/g, '\\"')}"` : r.value;
    lines.push(`${r.name} IN ${r.type} ${value}`);
  }
  return lines.join('\n') + '\n';
}

function namedConf(world: World): string {
  const zones = world.settings.zones
    .map((z) => `zone "${z.name}" { type master; file "/etc/bind/zones/db.${z.name}"; };`)
    .join('\n');
  return `// hurrynet: authoritative only, with a query log that graders read
options {
  directory "/var/cache/bind";
  listen-on { any; };
  listen-on-v6 { none; };
  recursion no;
  allow-query { any; };
  dnssec-validation no;
  version "hurrynet lab dns";
};
logging {
  channel queries_file { file "${FILES.bindQueryLog}" versions 2 size 20m; print-time yes; severity info; };
  category queries { queries_file; };
  category lame-servers { null; };
};
${zones}
`;
}

function vsftpdConf(world: World): string {
  const { pasvAddress, pasvMinPort, pasvMaxPort } = world.settings.ftp;
  return `# hurrynet: Bob's file store
listen=YES
listen_ipv6=NO
background=YES
anonymous_enable=YES
anon_root=${FILES.ftpRoot}
no_anon_password=YES
local_enable=YES
write_enable=YES
local_umask=022
chroot_local_user=YES
allow_writeable_chroot=YES
pasv_enable=YES
pasv_address=${pasvAddress}
pasv_min_port=${pasvMinPort}
pasv_max_port=${pasvMaxPort}
port_enable=YES
connect_from_port_20=NO
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
secure_chroot_dir=/var/run/vsftpd/empty
pam_service_name=vsftpd
xferlog_enable=YES
xferlog_std_format=NO
log_ftp_protocol=YES
vsftpd_log_file=${FILES.vsftpdLog}
ftpd_banner=Welcome to Bob's file store (hurrynet lab).
`;
}

/**
 * BIRD's config for a BGP speaker. Every peer gets explicit import and export filters, since BIRD
 * exchanges no eBGP routes without them; only BGP routes go to the kernel (as proto bird), so the
 * prefixes a router originates (unreachable static routes, BIRD's network statements) never
 * shadow its own connected routes.
 */
export function birdConf(node: Node, bgp: BgpSpeaker): string {
  const lines = [
    `# hurrynet: ${node.name}, AS ${bgp.asn}. Edit, then apply with: birdc configure`,
    'log "/var/log/bird.log" all;',
    `router id ${bgp.routerId};`,
    '',
    'protocol device {}',
    '',
    'protocol kernel {',
    '  ipv4 { import none; export where source = RTS_BGP; };',
    '}',
    '',
    '# The prefixes this AS announces.',
    'protocol static own_prefixes {',
    '  ipv4;',
    ...bgp.networks.map((p) => `  route ${p} unreachable;`),
    '}',
  ];
  for (const n of bgp.neighbors) {
    const deny = n.deny?.length ? `import where !(net ~ [ ${n.deny.map((p) => `${p}+`).join(', ')} ]);` : 'import all;';
    lines.push(
      '',
      `protocol bgp ${n.name} {`,
      `  local as ${bgp.asn};`,
      `  neighbor ${n.address} as ${n.asn};`,
      '  hold time 9; keepalive time 3; connect retry time 2; error wait time 2, 10;',
      `  ipv4 { ${deny} export all; };`,
      '}',
    );
  }
  return lines.join('\n') + '\n';
}

/** Config files a node's services need, derived from the world. */
export function nodeFiles(world: World, node: Node): NodeFile[] {
  const files: NodeFile[] = [];
  if (node.services.includes('dnsmasq')) files.push({ path: FILES.dnsmasqConf, content: dnsmasqConf(world, node) });
  if (node.services.includes('bind')) {
    files.push({ path: '/etc/bind/named.conf', content: namedConf(world) });
    for (const z of world.settings.zones) files.push({ path: `/etc/bind/zones/db.${z.name}`, content: zoneFile(z) });
  }
  if (node.services.includes('vsftpd')) files.push({ path: FILES.vsftpdConf, content: vsftpdConf(world) });
  if (node.services.includes('bird') && node.bgp)
    files.push({ path: FILES.birdConf, content: birdConf(node, node.bgp) });
  return files;
}

function portMatch(proto: string, ports?: string): string {
  if (!ports) return '';
  return ports.includes(',') ? ` -m multiport --dports ${ports}` : ` --dport ${ports}`;
}

export function natCommands(rules: NatRule[]): string[] {
  return rules.map((r) => {
    switch (r.kind) {
      case 'masquerade':
        return `iptables -t nat -A POSTROUTING -o ${r.outLink} -j MASQUERADE`;
      case 'dnat': {
        const proto = r.proto ? ` -p ${r.proto}${portMatch(r.proto, r.ports)}` : '';
        return `iptables -t nat -A PREROUTING -d ${r.publicAddress}${proto} -j DNAT --to-destination ${r.privateAddress}`;
      }
      case 'snat':
        return `iptables -t nat -A POSTROUTING -s ${r.privateAddress} -o ${r.outLink} -j SNAT --to-source ${r.publicAddress}`;
      case 'ftp-helper':
        // Lets the NAT rewrite the PORT command of active-mode FTP and expect the data connection.
        return `iptables -t raw -A PREROUTING -i ${r.inLink} -p tcp --dport 21 -j CT --helper ftp`;
    }
  });
}

function allowCommand(rule: AllowRule): string {
  const from = rule.from ? ` -s ${rule.from}` : '';
  const ports = rule.proto === 'icmp' ? '' : portMatch(rule.proto, rule.ports);
  return `iptables -A FORWARD -i ${rule.inLink}${from} -d ${rule.to} -p ${rule.proto}${ports} -m conntrack --ctstate NEW -j ACCEPT`;
}

/** A stateful security group: replies and related flows pass, new inbound flows only if allowed. */
export function firewallCommands(fw: Firewall): string[] {
  return [
    'iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
    ...fw.allow.map(allowCommand),
    ...fw.guardedLinks.map((l) => `iptables -A FORWARD -i ${l} -j DROP`),
  ];
}

export function setupCommands(node: Node): string[] {
  return [...natCommands(node.nat ?? []), ...(node.firewall ? firewallCommands(node.firewall) : [])];
}
