// Terminals in the browser: a WebSocket on one side, a TTY exec on a node (Driver.terminal) on the
// other. Binary frames carry keystrokes and output as they are; text frames carry control messages
// (resize from the page, ready/exit/error from us). The node and instance must belong to a running
// world (400 otherwise, before the upgrade); an input frame larger than MAX_TERMINAL_FRAME closes
// the socket (ws answers 1009). WS_WATCH_PATH watches a live terminal read-only (terminal-watch.ts):
// only when the deps' mayWatch says so (no hook: nobody may).
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Driver } from '../runtime/driver.js';
import { nodeContainer } from '../runtime/engine.js';
import type { Auth } from './auth.js';
import { HttpError, instanceParam, nodeParam, statusOf, type Scope } from './api.js';
import {
  MAX_TERMINAL_FRAME,
  WS_TERMINAL_PATH,
  WS_WATCH_PATH,
  type TerminalControl,
  type TerminalNotice,
} from './protocol.js';
import { TerminalRegistry, WatchError, type LiveTerminal, type TerminalInfo } from './terminal-watch.js';

/** How many terminals one server keeps open at once (each is a shell on a node). */
export const MAX_TERMINALS = 16;
/** Output waiting for a slow socket beyond this pauses the shell's output. */
const HIGH_WATER = 1 << 20;
/** A watcher this far behind is closed: a slow watcher must never slow the learner's shell. */
const WATCHER_HIGH_WATER = 256 * 1024;

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  421: 'Misdirected Request',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Refuses an upgrade with a plain HTTP answer (the page's WebSocket sees it fail). */
export function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** A size from the query: a whole number within what a terminal can be. */
function dimension(value: string | null, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n >= 2 && n <= 1000 ? n : fallback;
}

export function parseControl(text: string): TerminalControl | undefined {
  try {
    const m = JSON.parse(text) as Partial<TerminalControl>;
    if (m.type === 'resize' && Number.isInteger(m.cols) && Number.isInteger(m.rows))
      return { type: 'resize', cols: dimension(String(m.cols), 80), rows: dimension(String(m.rows), 24) };
  } catch {
    /* not a control message: ignored */
  }
  return undefined;
}

export interface TerminalDeps {
  driver: Driver;
  /** The engine that holds an instance's world (see ApiDeps.driverFor). */
  driverFor?: (instance: string) => Driver;
  auth: Auth;
  instance: string;
  /** Who asks (see ApiDeps.scope): a bound scope opens terminals on its own instance only. */
  scope?: (req: IncomingMessage) => Scope;
  /** The live terminals (to list them elsewhere, e.g. the teacher's routes); default: a registry of its own. */
  terminals?: TerminalRegistry;
  /** May this request watch this terminal, read-only? Without the hook, nobody may (403). */
  mayWatch?: (req: IncomingMessage, session: TerminalInfo) => boolean;
  /** A watcher joined (the class server audits it). */
  onWatch?: (req: IncomingMessage, session: TerminalInfo) => void;
}

/** Serves terminals on the server's upgrade requests; returns a function that closes them all. */
export function attachTerminals(server: Server, deps: TerminalDeps): () => void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_TERMINAL_FRAME });
  const open = new Set<WebSocket>();
  const registry = deps.terminals ?? new TerminalRegistry();
  const watching = new Set<WebSocket>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== WS_TERMINAL_PATH && url.pathname !== WS_WATCH_PATH)
        return refuseUpgrade(socket, 404, 'no such endpoint');
      const refused = deps.auth.checkUpgrade(req);
      if (refused) return refuseUpgrade(socket, refused.status, refused.message);
      if (url.pathname === WS_WATCH_PATH) return watchUpgrade(wss, registry, watching, deps, req, socket, head, url);
      if (open.size >= MAX_TERMINALS)
        return refuseUpgrade(socket, 429, `at most ${MAX_TERMINALS} terminals at once: close one first`);
      let container: string;
      let node: string;
      let driver = deps.driver;
      let instance: string;
      let bound = false;
      try {
        const scope = deps.scope?.(req) ?? { instance: deps.instance, bound: false };
        bound = scope.bound;
        instance = instanceParam(url.searchParams.get('instance') ?? undefined, scope.instance);
        if (scope.bound && instance !== scope.instance)
          throw new HttpError(403, `this session may open terminals only on its own instance, ${scope.instance}`);
        node = nodeParam(url.searchParams.get('node') ?? undefined);
        driver = deps.driverFor?.(instance) ?? deps.driver;
        container = await nodeContainer(driver, instance, node);
      } catch (err) {
        return refuseUpgrade(socket, statusOf(err), (err as Error).message);
      }
      const cols = dimension(url.searchParams.get('cols'), 80);
      const rows = dimension(url.searchParams.get('rows'), 24);
      wss.handleUpgrade(req, socket, head, (ws) => {
        open.add(ws);
        ws.on('close', () => open.delete(ws));
        const track = (c: number, r: number) => registry.add({ instance, node, cols: c, rows: r, bound });
        void bridge(ws, driver, container, node, cols, rows, track);
      });
    })();
  });
  return () => {
    for (const ws of open) ws.terminate();
    for (const ws of watching) ws.terminate();
    wss.close();
  };
}

const notice = (ws: WebSocket, n: TerminalNotice) => {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(n));
};

async function bridge(
  ws: WebSocket,
  driver: Driver,
  container: string,
  node: string,
  cols: number,
  rows: number,
  track?: (cols: number, rows: number) => LiveTerminal,
) {
  // Keystrokes typed while the exec starts are kept, not lost.
  const early: Buffer[] = [];
  const onEarly = (data: RawData, binary: boolean) => {
    if (binary) early.push(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer));
  };
  ws.on('message', onEarly);
  let session;
  try {
    session = await driver.terminal(container, ['bash', '-l'], { cols, rows });
  } catch (err) {
    notice(ws, { type: 'error', message: `could not open a shell on ${node}: ${(err as Error).message}` });
    ws.close(1011, 'no shell');
    return;
  }
  ws.off('message', onEarly);
  const s = session;
  if (ws.readyState !== ws.OPEN) return s.close();
  notice(ws, { type: 'ready', node });
  // Listed for watchers while the shell runs: they see what it prints, even what this socket drops.
  const live = track?.(cols, rows);
  ws.on('close', () => live?.end(-1));
  for (const b of early) s.write(b);
  s.output.on('data', (chunk: Buffer) => {
    live?.output(chunk);
    if (ws.readyState !== ws.OPEN) return;
    ws.send(chunk, { binary: true }, () => {
      if (s.output.isPaused() && ws.bufferedAmount < HIGH_WATER / 2) s.output.resume();
    });
    if (ws.bufferedAmount > HIGH_WATER) s.output.pause();
  });
  ws.on('message', (data: RawData, binary: boolean) => {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (binary) return s.write(buf);
    const control = parseControl(buf.toString('utf8'));
    if (control?.type === 'resize') {
      void s.resize(control.cols, control.rows);
      live?.resize(control.cols, control.rows);
    }
  });
  ws.on('close', () => s.close());
  const code = await s.exited;
  live?.end(code);
  notice(ws, { type: 'exit', code });
  if (ws.readyState === ws.OPEN) ws.close(1000, 'shell ended');
}

/**
 * A read-only watcher of a live terminal: the replay, then the output as it comes. What the watcher
 * sends is dropped (never the shell's input, never a resize); one too far behind is closed.
 */
function watchUpgrade(
  wss: WebSocketServer,
  registry: TerminalRegistry,
  watching: Set<WebSocket>,
  deps: TerminalDeps,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  url: URL,
): void {
  if (!deps.mayWatch) return refuseUpgrade(socket, 403, 'this server does not let anyone watch terminals');
  const info = registry.get(url.searchParams.get('session') ?? '');
  if (!info) return refuseUpgrade(socket, 404, 'no such terminal (it may have ended)');
  if (!deps.mayWatch(req, info)) return refuseUpgrade(socket, 403, 'you may not watch this terminal');
  wss.handleUpgrade(req, socket, head, (ws) => {
    watching.add(ws);
    let unwatch: (() => void) | undefined;
    ws.on('close', () => {
      watching.delete(ws);
      unwatch?.();
    });
    // Input and control frames from a watcher: read and dropped.
    ws.on('message', () => undefined);
    const behind = () => ws.bufferedAmount > WATCHER_HIGH_WATER;
    notice(ws, { type: 'ready', node: info.node });
    try {
      unwatch = registry.watch(info.id, {
        output(chunk) {
          if (ws.readyState !== ws.OPEN) return;
          if (behind()) return void ws.terminate();
          ws.send(chunk, { binary: true });
        },
        resize: (cols, rows) => notice(ws, { type: 'resize', cols, rows }),
        exit(code) {
          notice(ws, { type: 'exit', code });
          if (ws.readyState === ws.OPEN) ws.close(1000, 'shell ended');
        },
      });
    } catch (err) {
      // The terminal ended (or filled up) between the check and the upgrade.
      notice(ws, { type: 'error', message: (err as Error).message });
      ws.close(err instanceof WatchError && err.status === 429 ? 1013 : 1000, 'not watching');
      return;
    }
    deps.onWatch?.(req, info);
  });
}
