// The UI server: the page's static files, its JSON routes (api.ts) and its terminals (terminal.ts),
// behind the token (auth.ts). Bound to 127.0.0.1 by default on a free port. It exposes only
// operations on hurrynet instances, never the Docker API.
import express, { type NextFunction, type Request, type Response } from 'express';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Driver } from '../runtime/driver.js';
import { projectRoot } from '../runtime/paths.js';
import { createAuth, DEFAULT_HOST, newSecrets, type Auth, type Secrets } from './auth.js';
import { createApi, statusOf, type ApiDeps } from './api.js';
import { MAX_BODY_BYTES } from './protocol.js';
import { attachTerminals } from './terminal.js';

export { DEFAULT_HOST };

/** The built page (npm run build:ui; npm ci builds it). */
export function staticDir(): string {
  return join(projectRoot(), 'dist', 'ui');
}

/**
 * The page's policy: scripts and styles only from this server. The one exception is a per-response
 * nonce for styles, because xterm.js writes its measurements into <style> elements it creates (the
 * page gives them the nonce); no inline script runs, ever.
 */
export function contentSecurityPolicy(styleNonce?: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    `style-src 'self'${styleNonce ? ` 'nonce-${styleNonce}'` : ''}`,
    "img-src 'self' data:",
    "connect-src 'self'",
    "frame-src 'self'",
    "frame-ancestors 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
}

export interface AppDeps {
  driver: Driver;
  instance: string;
  auth: Auth;
  /** Where the built page is (default: dist/ui). */
  pageDir?: string;
  /** The api's per-request scope and hooks (the classroom server's). */
  api?: Omit<ApiDeps, 'driver' | 'instance'>;
  /** More routes, mounted behind the auth and the body parser, before the page (the classroom's /teacher). */
  routes?: (app: express.Express) => void;
}

/**
 * Serves a built page (read once) with a fresh style nonce in it and in its policy at every load:
 * the pages whose terminals xterm.js measures with <style> elements (the learner's, the teacher's).
 */
export function pageWithNonce(file: string): (req: Request, res: Response) => void {
  let html: string | undefined;
  return (_req, res) => {
    html ??= readFileSync(file, 'utf8');
    const nonce = randomBytes(16).toString('base64');
    res.setHeader('Content-Security-Policy', contentSecurityPolicy(nonce));
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(html.replaceAll('__STYLE_NONCE__', nonce));
  };
}

export function createApp(deps: AppDeps): express.Express & { warm(): Promise<void> } {
  const app = express();
  const api = createApi({ ...deps.api, driver: deps.driver, instance: deps.instance });
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Content-Security-Policy', contentSecurityPolicy());
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    next();
  });
  app.use((req, res, next) => deps.auth.middleware(req, res, next));
  // A form on another site cannot send JSON without asking first (CORS), and we never say yes.
  app.use(['/api', '/teacher'], (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD' && !req.is('application/json'))
      return void res.status(415).json({ error: 'send the request body as application/json' });
    next();
  });
  app.use(express.json({ limit: MAX_BODY_BYTES }));
  deps.routes?.(app);
  app.use('/api', api.router);
  app.use('/api', (_req, res) => void res.status(404).json({ error: 'no such route' }));

  const pageDir = deps.pageDir ?? staticDir();
  app.get(['/', '/index.html'], pageWithNonce(join(pageDir, 'index.html')));
  app.use(express.static(pageDir, { index: false, fallthrough: true }));
  app.use((_req, res) => void res.status(404).type('text/plain').send('not found\n'));

  // Errors: the user's are 4xx with the reason, ours 500. Express 5 sends rejected handlers here.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = statusOf(err);
    const type = (err as { type?: string }).type;
    const message =
      type === 'entity.too.large'
        ? `the request body is larger than ${MAX_BODY_BYTES / 1024} kB`
        : type === 'entity.parse.failed'
          ? 'the request body is not valid JSON'
          : err instanceof Error
            ? err.message
            : String(err);
    if (res.headersSent) return void res.end();
    const extra = (err as { extra?: Record<string, unknown> }).extra ?? {};
    if (req.path.startsWith('/api/') || req.path.startsWith('/teacher/'))
      res.status(status).json({ error: message, ...extra });
    else res.status(status).type('text/plain').send(`${message}\n`);
  });
  return Object.assign(app, { warm: api.warm });
}

export interface UiServerOptions {
  driver: Driver;
  instance: string;
  host?: string;
  /** 0 (default): a free port. */
  port?: number;
  pageDir?: string;
  secrets?: Secrets;
}

export interface UiServer {
  /** The address to open, with the token. */
  url: string;
  /** The server's origin (no token). */
  origin: string;
  host: string;
  port: number;
  server: Server;
  /** Resolves once what the page asks for first is loaded (the labs, the instance's status). */
  warmed: Promise<void>;
  close(): Promise<void>;
}

export class PageNotBuiltError extends Error {}

export async function startUiServer(opts: UiServerOptions): Promise<UiServer> {
  const pageDir = opts.pageDir ?? staticDir();
  if (!existsSync(join(pageDir, 'index.html')) || !existsSync(join(pageDir, 'main.js')))
    throw new PageNotBuiltError(
      `the browser page is not built (${pageDir} has no index.html and main.js): run "npm run build:ui" (npm ci does it too)`,
    );
  const host = opts.host ?? DEFAULT_HOST;
  const secrets = opts.secrets ?? newSecrets();
  let port = opts.port ?? 0;
  const auth = createAuth(secrets, () => ({ host, port }));
  const app = createApp({ driver: opts.driver, instance: opts.instance, auth, pageDir });
  const server = createServer(app);
  // A stream (a lab start, a check) may take minutes: no request timeout, but idle sockets close.
  server.requestTimeout = 0;
  server.headersTimeout = 30_000;
  const closeTerminals = attachTerminals(server, { driver: opts.driver, auth, instance: opts.instance });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const warmed = app.warm();
  // An address to print that a browser on this machine can open.
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  const origin = `http://${shown}:${port}`;
  return {
    url: auth.url(origin),
    origin,
    host,
    port,
    server,
    warmed,
    close: () =>
      new Promise<void>((resolve) => {
        closeTerminals();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
