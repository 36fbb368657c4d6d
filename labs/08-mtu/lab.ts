// Lab 08: MTU and fragmentation. One link on the way to Bob carries smaller packets than the
// 1500 bytes everything else carries (per seed: Alice's access line or the backbone, and how
// small), and a router "hardened" against ICMP drops the "fragmentation needed" messages that path
// MTU discovery depends on. Small requests work; a large download hangs: a path-MTU black hole.
// The learner measures the path MTU with ping -M do, finds the filter, and fixes the network:
// let the ICMP through, or clamp the TCP MSS on a router. Restoring 1500 bytes on the small link
// is not a fix (the link is part of the world); neither is shrinking Alice's own MTU or MSS.
//
// Graded from places the learner cannot fake: clean sidecars in the routers' and Alice's network
// namespaces (link MTUs, Alice's own settings), a download of a large file from a clean sidecar
// in Alice's namespace after both ends have forgotten any path MTU they learned (fresh routes for
// the duration of the check), Bob's access log (the download's one-time URL arrived from Alice's
// network), and the path_mtu answer compared with the MTU the small link has.
import { randomBytes } from 'node:crypto';
import { defineLab, type Fault, type Rng, type Vars } from '../../orchestrator/lab.js';
import { canonicalWorld, findNode } from '../../orchestrator/world.js';
import { fail, pass, type Check, type CheckContext, type Evidence } from '../../checks/types.js';
import { http, q, readFile, resolveWith } from '../../checks/probes.js';
import { answerCheck } from '../../checks/answers.js';

// ---- facts from the world data ----------------------------------------------------------------

const bare = (cidr: string) => cidr.split('/')[0] as string;
const alice = findNode(canonicalWorld, 'alice');
const home = findNode(canonicalWorld, 'home');
const web = findNode(canonicalWorld, 'web');
const bobWeb = canonicalWorld.settings.zones.find((z) => z.name === 'bob.example')?.records.find((r) => r.name === 'web' && r.type === 'A');
if (!alice || !home || !web || !bobWeb) throw new Error('lab 08: the world lacks alice, home, web or web.bob.example');

/** Alice's interface, e.g. "home". */
export const IFACE = alice.interfaces[0]?.link as string;
/** Alice's default gateway (the home router), e.g. 192.168.1.1. */
export const GATEWAY = alice.routes.find((r) => r.to === 'default')?.via as string;
/** Bob's public address (web.bob.example). */
export const BOB = bobWeb.value;
/** The home router's public address: the client address Bob sees. */
export const HOME_PUBLIC = bare(home.interfaces.find((i) => i.link === 'access')?.addresses[0] as string);
const WEB_IFACE = web.interfaces[0]?.link as string;
const WEB_GATEWAY = web.routes.find((r) => r.to === 'default')?.via as string;
if (!IFACE || !GATEWAY || !HOME_PUBLIC || !WEB_IFACE || !WEB_GATEWAY) throw new Error('lab 08: incomplete world data');

/** Every other link in the world carries Ethernet's usual 1500 bytes. */
export const STANDARD_MTU = 1500;
/** The large download the grader (and the learner) makes: 1 MB. */
export const DOWNLOAD_BYTES = 1000000;
const ACCESS_LOG = '/var/log/web/access.log';

/** The nodes attached to a link, from the world data. */
export function nodesOn(link: string): string[] {
  return canonicalWorld.nodes.filter((n) => n.interfaces.some((i) => i.link === link)).map((n) => n.name);
}

// ---- variation --------------------------------------------------------------------------------

/**
 * Where the small link is and which router drops "fragmentation needed" on its way back to Bob's
 * server (the sender of a download):
 * - access: the ISP router sends the message (it cannot forward Bob's big packets onto Alice's
 *   line); either the ISP router never sends it (OUTPUT) or Bob's edge drops it (FORWARD);
 * - backbone: the edge sends it itself (OUTPUT) when Bob's packets do not fit the backbone.
 */
export const SCENARIOS = [
  { link: 'access', filterNode: 'isp', chain: 'OUTPUT' },
  { link: 'access', filterNode: 'edge', chain: 'FORWARD' },
  { link: 'backbone', filterNode: 'edge', chain: 'OUTPUT' },
] as const;
export const MTU_MIN = 1280;
export const MTU_MAX = 1460;

function vary(rng: Rng): Vars {
  const s = rng.pick(SCENARIOS);
  return { link: s.link, filterNode: s.filterNode, chain: s.chain, mtu: rng.int(MTU_MIN / 10, MTU_MAX / 10) * 10 };
}

function faults(v: Vars): Fault[] {
  const link = String(v.link);
  const mtu = Number(v.mtu);
  const shrink: Fault[] = nodesOn(link).map((node) => ({
    node,
    description: `the ${link} link carries at most ${mtu} bytes per packet`,
    script: `ip link set dev ${link} mtu ${mtu}`,
  }));
  return [
    ...shrink,
    {
      node: String(v.filterNode),
      description: `"hardening": drop ICMP fragmentation-needed (${String(v.chain)})`,
      script: `iptables -I ${String(v.chain)} 1 -p icmp --icmp-type fragmentation-needed -j DROP`,
    },
  ];
}

// ---- observations -----------------------------------------------------------------------------

/** The MTU of a node's interface, read by a clean sidecar in its namespace. */
async function linkMtu(ctx: CheckContext, node: string, dev: string): Promise<{ mtu?: number; evidence: Evidence }> {
  const probe = await ctx.probe(node);
  const e = await probe.run(`ip -o link show dev ${q(dev)}`, 5000);
  const m = /\bmtu (\d+)/.exec(e.output);
  return { mtu: e.exitCode === 0 && m ? Number(m[1]) : undefined, evidence: e };
}

async function smallLink(ctx: CheckContext, link: string): Promise<{ ends: { node: string; mtu?: number }[]; evidence: Evidence[] }> {
  const nodes = nodesOn(link);
  const seen = await Promise.all(nodes.map((n) => linkMtu(ctx, n, link)));
  return { ends: nodes.map((node, i) => ({ node, mtu: seen[i]?.mtu })), evidence: seen.map((s) => s.evidence) };
}

// ---- checks -----------------------------------------------------------------------------------

function checks(v: Vars): Check[] {
  const link = String(v.link);
  const mtu = Number(v.mtu);
  return [
    {
      id: 'reach',
      title: "Small requests work: Bob's front page answers from Alice's laptop",
      points: 1,
      hint: 'curl -i http://web.bob.example/ should answer 200 OK. If it does not, something else broke: start the lab again with --reset.',
      async run(ctx) {
        const probe = await ctx.probe('alice');
        const { address, result } = await resolveWith(probe, 'web.bob.example', GATEWAY);
        if (!address) return fail('web.bob.example does not resolve through the home router', result.evidence);
        const r = await http(probe, { url: 'http://web.bob.example/', resolveTo: address });
        return r.status === 200 ? pass('GET / answered 200 OK', r.evidence) : fail(`GET / answered ${r.status || 'nothing'}`, r.evidence);
      },
    },
    {
      id: 'link-mtu',
      title: `The small link keeps its MTU (it is part of the world; fix the network around it)`,
      points: 1,
      hint: `Do not change the MTU of the ${link} link back: real links (tunnels, PPPoE, VPNs) have small MTUs you cannot change. Put it back with "ip link set dev ${link} mtu ${mtu}" on ${nodesOn(link).join(' and ')}, then fix the ICMP filter or clamp the MSS.`,
      async run(ctx) {
        const s = await smallLink(ctx, link);
        const wrong = s.ends.filter((e) => e.mtu !== mtu);
        if (wrong.length) {
          return fail(`the ${link} link's MTU was changed: ${wrong.map((e) => `${e.node} has ${e.mtu ?? 'no such interface'}`).join(', ')} (it must stay ${mtu})`, ...s.evidence);
        }
        return pass(`the ${link} link still carries at most ${mtu} bytes per packet on ${s.ends.map((e) => e.node).join(', ')}`, ...s.evidence);
      },
    },
    {
      id: 'alice-standard',
      title: "Alice's laptop keeps its standard settings (the fix belongs in the network, not on one laptop)",
      points: 1,
      hint: `Shrinking Alice's MTU (ip link set dev ${IFACE} mtu ...), her MSS (ip route ... advmss/mtu) or redirecting her traffic through a local proxy only hides the problem for her: every other visitor still hangs. Undo it (ip link set dev ${IFACE} mtu ${STANDARD_MTU}; ip route change default via ${GATEWAY} dev ${IFACE}; iptables -t mangle -F; iptables -t nat -F).`,
      async run(ctx) {
        const probe = await ctx.probe('alice');
        const e = await probe.run(
          `ip -o link show dev ${IFACE}; echo '--- routes'; ip -4 route show table main; echo '--- rules'; iptables-save 2>/dev/null | grep -E '^-A' ; if [ -s /proc/net/ip_tables_names ]; then iptables-legacy-save 2>/dev/null | grep -E '^-A'; fi; true`,
          8000,
        );
        const ifMtu = Number(/\bmtu (\d+)/.exec(e.output)?.[1] ?? 0);
        const routes = (/--- routes\n([\s\S]*?)--- rules/.exec(e.output)?.[1] ?? '').split('\n').filter(Boolean);
        const rules = (/--- rules\n([\s\S]*)$/.exec(e.output)?.[1] ?? '').split('\n').filter(Boolean);
        if (ifMtu !== STANDARD_MTU) return fail(`Alice's ${IFACE} interface has MTU ${ifMtu || 'unknown'}, not ${STANDARD_MTU}: that makes her own connections small, but fixes nothing for anyone else`, e);
        const tuned = routes.filter((r) => /\b(advmss|mtu)\b/.test(r));
        if (tuned.length) return fail(`Alice's routes set their own MSS or MTU (${tuned[0]}): a workaround on one laptop, not a fix of the path`, e);
        const tricks = rules.filter((r) => /-j (TCPMSS|REDIRECT|DNAT|TPROXY)\b/.test(r));
        if (tricks.length) return fail(`Alice's laptop rewrites or redirects her own traffic (${tricks[0]}): a workaround on one laptop, not a fix of the path`, e);
        return pass(`${IFACE} has MTU ${STANDARD_MTU}, her routes set no MSS, and no rule rewrites her connections`, e);
      },
    },
    {
      id: 'download',
      title: `A large download (${DOWNLOAD_BYTES} bytes) from Bob completes, from a laptop that has not learned the path MTU`,
      points: 4,
      deadlineMs: 4000,
      hint: `Let the path MTU discovery work again (find the router whose firewall drops ICMP "fragmentation needed": iptables -L -v -n shows the counters), or clamp the TCP MSS on the router at the small link: iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu`,
      async run(ctx) {
        const nonce = randomBytes(6).toString('hex');
        const path = `/bytes/${DOWNLOAD_BYTES}?check=${nonce}`;
        // Both ends forget what they learned about the path: a route of their own for the duration
        // (a fresh next hop keeps no path MTU), removed again afterwards.
        const webRoute = `${HOME_PUBLIC}/32 via ${WEB_GATEWAY} dev ${WEB_IFACE} proto static metric 7`;
        const aliceRoute = `${BOB}/32 via ${GATEWAY} dev ${IFACE} proto static metric 7`;
        const webNode = ctx.node('web');
        const probe = await ctx.probe('alice');
        await webNode.run(`ip route add ${webRoute} 2>/dev/null; true`, 5000);
        let dl: Evidence;
        try {
          dl = await probe.run(
            `ip route add ${aliceRoute} 2>/dev/null; curl -sS -m 8 -o /dev/null -w '%{http_code} %{size_download} bytes in %{time_total} s\\n' --resolve web.bob.example:80:${BOB} ${q(`http://web.bob.example${path}`)}; rc=$?; ip route del ${aliceRoute} 2>/dev/null; exit $rc`,
            15000,
          );
        } finally {
          await webNode.run(`ip route del ${webRoute} 2>/dev/null; true`, 5000);
        }
        const m = /^(\d{3}) (\d+) bytes/m.exec(dl.output);
        if (dl.exitCode !== 0 || !m) {
          const hung = dl.exitCode === 28;
          return fail(
            hung
              ? `the download hung: ${/with (\d+) (?:out of \d+ )?bytes received/.exec(dl.output)?.[1] ?? 'almost no'} of ${DOWNLOAD_BYTES} bytes arrived in 8 s (small packets pass, full-size ones vanish)`
              : `the download failed (curl exit code ${dl.exitCode})`,
            dl,
          );
        }
        if (m[1] !== '200' || Number(m[2]) !== DOWNLOAD_BYTES) return fail(`the download answered ${m[1]} with ${m[2]} bytes, not 200 with ${DOWNLOAD_BYTES}`, dl);
        const log = await readFile(ctx.node('web'), ACCESS_LOG);
        const line = log.text.split('\n').find((l) => l.includes(nonce)) ?? '';
        const logEv: Evidence = { ...log.evidence, command: `grep ${nonce} ${ACCESS_LOG}`, output: line };
        let entry: { client?: string; status?: number } = {};
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          /* no entry */
        }
        if (entry.client !== HOME_PUBLIC || entry.status !== 200) {
          return fail(`${DOWNLOAD_BYTES} bytes arrived, but Bob's server never served that download to Alice's network: something on the way answered instead of Bob`, dl, logEv);
        }
        return pass(`all ${DOWNLOAD_BYTES} bytes arrived from Bob (${m[0].replace(/^\d{3} \d+ bytes /, '')})`, dl, logEv);
      },
    },
    answerCheck({
      id: 'answer-path-mtu',
      title: "answers.yaml: the path MTU between Alice's laptop and Bob's server (path_mtu)",
      points: 2,
      key: 'path_mtu',
      hint: 'ping -M do -c 1 -s SIZE web.bob.example sends SIZE bytes of data that must not be fragmented; the packet is SIZE + 28 bytes (20 of IP header, 8 of ICMP header). Find the largest SIZE that gets a reply.',
      async expected(ctx) {
        const s = await smallLink(ctx, link);
        const ok = s.ends.every((e) => e.mtu === mtu);
        return { value: ok ? String(mtu) : undefined, evidence: [] };
      },
      matches: (given, want) => Number(given.trim().replace(/\s*bytes?$/i, '')) === Number(want),
    }),
    answerCheck({
      id: 'answer-mss',
      title: 'answers.yaml: the largest TCP payload a full-size packet on this path can carry, without TCP options (mss)',
      points: 1,
      required: false,
      key: 'mss',
      hint: 'A TCP segment inside an IP packet pays for two headers of 20 bytes each (IP and TCP).',
      async expected(ctx) {
        const s = await smallLink(ctx, link);
        const ok = s.ends.every((e) => e.mtu === mtu);
        return { value: ok ? String(mtu - 40) : undefined, evidence: [] };
      },
      matches: (given, want) => Number(given.trim()) === Number(want),
    }),
  ];
}

export default defineLab({
  number: 8,
  slug: 'mtu',
  title: 'MTU and fragmentation: the path-MTU black hole',
  topics: ['MTU', 'fragmentation', "don't fragment", 'path MTU discovery', 'ICMP', 'MSS clamping', 'iptables'],
  minutes: 35,
  goal: "Find out why small requests to Bob work but a large download hangs: measure the path MTU with ping, find the router that drops ICMP \"fragmentation needed\", and fix the network so that large transfers complete again, without changing the small link.",
  submissionNodes: ['alice', 'home', 'isp', 'edge'],
  questions: [
    { key: 'path_mtu', prompt: "The path MTU between Alice's laptop and Bob's server, in bytes" },
    { key: 'mss', prompt: 'The largest TCP payload (without options) a full-size packet on this path carries' },
  ],
  vary,
  task() {
    return {
      download: `http://web.bob.example/bytes/${DOWNLOAD_BYTES}`,
      measure: "the path MTU between Alice's laptop and web.bob.example (ping -M do)",
      routers: 'home, isp, edge (open a shell on one with: npx hurrynet shell ROUTER)',
      answers: '/root/answers.yaml with path_mtu and mss',
    };
  },
  faults,
  checks,
});
