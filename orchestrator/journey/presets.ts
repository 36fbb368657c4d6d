// The article's stories as ready-made journeys: what a learner would type on Alice's laptop to
// see one of them happen. `journey web` is `journey -- curl ... http://web.bob.example/`.
import { UsageError } from '../errors.js';

export interface Preset {
  name: string;
  usage: string;
  description: string;
  command(args: string[], opts: { active: boolean }): string[];
}

const WEB = 'web.bob.example';
const FTP = 'ftp.bob.example';

/** curl that prints only the status and size: the journey is the output worth reading. */
const fetchPage = (url: string) => [
  'curl',
  '-sS',
  '-o',
  '/dev/null',
  '-w',
  'HTTP %{http_code}, %{size_download} bytes\\n',
  url,
];

export const PRESETS: Preset[] = [
  {
    name: 'web',
    usage: 'web [URL]',
    description: `an HTTP GET of http://${WEB}/ (the name lookup, the handshake, the page, the goodbye)`,
    command: ([url]) => fetchPage(url ?? `http://${WEB}/`),
  },
  {
    name: 'https',
    usage: 'https [URL]',
    description: `the same over TLS: the handshake records, then encrypted application data`,
    command: ([url]) => fetchPage(url ?? `https://${WEB}/`),
  },
  {
    name: 'dns',
    usage: 'dns [NAME]',
    description: `a lookup through the home router's cache (run it twice: the second answer never leaves home)`,
    command: ([name]) => ['dig', '+tries=1', '+time=3', '+noall', '+answer', name ?? WEB],
  },
  {
    name: 'ping',
    usage: 'ping [HOST]',
    description: 'three echo requests and their replies, TTL one lower at every router',
    command: ([host]) => ['ping', '-c', '3', '-i', '0.2', '-W', '2', host ?? WEB],
  },
  {
    name: 'ftp',
    usage: 'ftp [--active]',
    description: `a directory listing from ${FTP}: a control connection and a data connection (passive, or active with --active)`,
    command: (_args, { active }) => [
      'curl',
      '-sS',
      '--user',
      'bob:bobpass',
      ...(active ? ['-P', '-'] : []),
      `ftp://${FTP}/`,
    ],
  },
  {
    name: 'udp',
    usage: 'udp [HOST]',
    description: "a burst of datagrams: lab 09's live stream on port 5004 (where it runs), each frame its own packet",
    command: ([host]) => [
      'bash',
      '-c',
      `echo go | nc -u -w 2 ${host ?? WEB} 5004 | wc -l | sed 's/$/ datagrams received/'`,
    ],
  },
];

export function findPreset(name: string): Preset | undefined {
  return PRESETS.find((p) => p.name === name);
}

/** The command a journey runs: a preset with its arguments, or the words after "--". */
export function journeyCommand(words: string[], opts: { active: boolean; explicit: boolean }): string[] {
  if (!words.length)
    throw new UsageError(
      `say what to follow: a story (${PRESETS.map((p) => p.name).join(', ')}) or a command after "--", e.g. hurrynet journey -- curl http://${WEB}/`,
    );
  const preset = opts.explicit ? undefined : findPreset(words[0] as string);
  if (preset) return preset.command(words.slice(1), opts);
  if (!opts.explicit)
    throw new UsageError(
      `"${words[0]}" is not a story (${PRESETS.map((p) => p.name).join(', ')}); to run a command, put it after "--": hurrynet journey -- ${words.join(' ')}`,
    );
  if (opts.active) throw new UsageError('--active belongs to the ftp story: hurrynet journey ftp --active');
  return words;
}
