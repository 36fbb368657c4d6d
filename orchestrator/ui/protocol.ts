// What the browser page and the UI server say to each other: plain types, shared by both sides
// (the page's tsconfig includes this file; it imports nothing that needs Node).
import type { CheckResult } from '../../checks/types.js';

export interface SessionView {
  /** The instance the server was started for (every route takes ?instance= to act on another). */
  instance: string;
  presets: { name: string; usage: string; description: string }[];
  /** Something the server wants the learner to read first (the class server: a world stopped while idle). */
  notice?: string;
}

export interface LabSummary {
  number: number;
  id: string;
  slug: string;
  title: string;
  topics: string[];
  minutes: number;
}

export interface NodeView {
  node: string;
  state: string;
  ready: boolean;
  addresses: { link: string; address: string }[];
}

export interface InstanceView {
  instance: string;
  /** Nothing runs there (no containers). */
  empty: boolean;
  /** The lab it runs, or null for the free world (or nothing). */
  lab: (LabSummary & { seed: string }) | null;
  healthy: boolean;
  nodes: NodeView[];
  /** What the server is doing on the instance right now (a start, a check), if anything. */
  busy?: string;
}

export interface WorldView {
  lab: string | null;
  /** The topology as SVG, each node's group marked with data-node (from orchestrator/world/graph.ts). */
  svg: string;
  nodes: string[];
}

export interface HandoutView {
  lab: LabSummary;
  goal: string;
  /** The lab's README.md rendered to HTML on the server. */
  html: string;
  /** The learner's own task card (also /root/TASK.txt on alice), or null when the lab has none. */
  task: Record<string, string> | null;
}

export interface CheckInfo {
  id: string;
  title: string;
  points: number;
  required: boolean;
}

export interface CheckSummary {
  lab: string;
  score: number;
  maxScore: number;
  passed: boolean;
  inconclusive: string[];
  ms: number;
  startedAt: string;
}

/** The last check of an instance, from the page or from `hurrynet check`. */
export interface LastReport {
  summary: CheckSummary;
  checks: CheckInfo[];
  results: CheckResult[];
}

export interface HintView {
  check: string;
  level: number;
  maxLevel: number;
  /** Levels 1..level, in order. */
  hints: string[];
}

/** A change a router made to a packet that a NAT explains (the journey's highlight). */
export interface NatChange {
  node: string;
  field: string;
  from: string;
  to: string;
  why: string;
  packets: number;
}

export interface JourneyView {
  id: string;
  command: string[];
  exitCode: number;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  packets: number;
  flows: number;
  /** One line per conversation: "TCP HTTP 192.168.1.101:40000 → 198.51.100.80:80: alice → home → …". */
  paths: string[];
  nat: NatChange[];
  warnings: string[];
  /** The journey's own HTML view (lanes and hops), for an iframe. */
  htmlUrl: string;
}

/** One line of a streamed (NDJSON) answer. */
export type StreamEvent =
  | { type: 'progress'; message: string }
  | { type: 'checks'; checks: CheckInfo[] }
  | { type: 'result'; result: CheckResult }
  | { type: 'checked'; summary: CheckSummary }
  | { type: 'started'; lab: string; seconds: number; fromStandby: boolean; already: boolean }
  | { type: 'journey'; journey: JourneyView }
  | { type: 'error'; message: string };

export const WS_TERMINAL_PATH = '/ws/terminal';
/** Watching a live terminal read-only (?session=ID): output only, whatever the watcher sends is dropped. */
export const WS_WATCH_PATH = '/ws/watch';
/** The largest terminal input frame (a paste) the server takes; larger ones close the socket. */
export const MAX_TERMINAL_FRAME = 64 * 1024;
/** The largest JSON body a route takes. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Text frames from the page: control messages (keystrokes go as binary frames). */
export type TerminalControl = { type: 'resize'; cols: number; rows: number };
/** Text frames from the server. */
export type TerminalNotice =
  | { type: 'ready'; node: string }
  | { type: 'exit'; code: number }
  | { type: 'error'; message: string }
  /** To a watcher: the watched terminal's size (on joining and when its owner resizes it). */
  | { type: 'resize'; cols: number; rows: number };

/** A live terminal as the class teacher's list shows it (GET /teacher/api/terminals). */
export interface LiveTerminalView {
  id: string;
  node: string;
  openedAt: string;
  cols: number;
  rows: number;
}
