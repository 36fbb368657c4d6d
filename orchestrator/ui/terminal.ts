// Terminals in the browser: a WebSocket on one side, a TTY exec on a node (Driver.terminal) on the
// other. Binary frames carry keystrokes and output as they are; text frames carry control messages
// (resize from the page, ready/exit/error from us). The node and instance must belong to a running
// world (400 otherwise, before the upgrade); an input frame larger than MAX_TERMINAL_FRAME closes
// the socket (ws answers 1009).
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Driver } from '../runtime/driver.js';
import { nodeContainer } from '../runtime/engine.js';
import type { Auth } from './auth.js';
import { HttpError, instanceParam, nodeParam, statusOf, type Scope } from './api.js';
import { MAX_TERMINAL_FRAME, WS_TERMINAL_PATH, type TerminalControl, type TerminalNotice } from './protocol.js';

/** How many terminals one server keeps open at once (each is a shell on a node). */
export const MAX_TERMINALS = 16;
/** Output waiting for a slow socket beyond this pauses the shell's output. */
const HIGH_WATER = 1 << 20;

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
}

/** Serves terminals on the server's upgrade requests; returns a function that closes them all. */
export function attachTerminals(server: Server, deps: TerminalDeps): () => void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_TERMINAL_FRAME });
  const open = new Set<WebSocket>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== WS_TERMINAL_PATH) return refuseUpgrade(socket, 404, 'no such endpoint');
      const refused = deps.auth.checkUpgrade(req);
      if (refused) return refuseUpgrade(socket, refused.status, refused.message);
      if (open.size >= MAX_TERMINALS)
        return refuseUpgrade(socket, 429, `at most ${MAX_TERMINALS} terminals at once: close one first`);
      let container: string;
      let node: string;
      let driver = deps.driver;
      try {
        const scope = deps.scope?.(req) ?? { instance: deps.instance, bound: false };
        const instance = instanceParam(url.searchParams.get('instance') ?? undefined, scope.instance);
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
        void bridge(ws, driver, container, node, cols, rows);
      });
    })();
  });
  return () => {
    for (const ws of open) ws.terminate();
    wss.close();
  };
}

const notice = (ws: WebSocket, n: TerminalNotice) => {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(n));
};

async function bridge(ws: WebSocket, driver: Driver, container: string, node: string, cols: number, rows: number) {
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
  for (const b of early) s.write(b);
  s.output.on('data', (chunk: Buffer) => {
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
    if (control?.type === 'resize') void s.resize(control.cols, control.rows);
  });
  ws.on('close', () => s.close());
  const code = await s.exited;
  notice(ws, { type: 'exit', code });
  if (ws.readyState === ws.OPEN) ws.close(1000, 'shell ended');
}
