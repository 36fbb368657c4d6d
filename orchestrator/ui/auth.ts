// Who may use the UI server: whoever holds the token printed at start. The token in the URL is
// exchanged for an HttpOnly, SameSite=Strict cookie holding a separate session secret (so the
// token does not ride on every request and a page on another site cannot send it), then the
// browser is redirected to the same path without it. Every HTTP request and WebSocket needs the
// cookie. The Host header must name this server (DNS rebinding: a foreign name that resolves to
// 127.0.0.1 gets 421), and a WebSocket's Origin must be this server's own (403 otherwise).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { NextFunction, Request, Response } from 'express';

/** Where the server listens unless told otherwise: this machine only. */
export const DEFAULT_HOST = '127.0.0.1';

export interface Secrets {
  /** Printed in the URL; exchanged for the cookie. */
  token: string;
  /** The cookie's value. */
  session: string;
}

export function newSecrets(): Secrets {
  return { token: randomBytes(24).toString('base64url'), session: randomBytes(32).toString('base64url') };
}

/** Constant-time comparison (hashed first, so that lengths do not leak either). */
export function safeEqual(a: string, b: string): boolean {
  const h = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(a), h(b));
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const name = part.slice(0, i).trim();
    const value = part.slice(i + 1).trim();
    try {
      out[name] = decodeURIComponent(value);
    } catch {
      out[name] = value;
    }
  }
  return out;
}

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** Splits "name:port" or "[v6]:port". */
export function splitHost(header: string): { name: string; port: string } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d+))?$/.exec(header.trim());
  if (!m) return undefined;
  return { name: (m[1] as string).toLowerCase(), port: m[2] ?? '80' };
}

/**
 * Whether a Host header names this server. Bound to loopback: 127.0.0.1, localhost or [::1] with
 * our port. Bound to one address: that address (or name). Bound to every address: any IP literal
 * or localhost; never another name, which is what a rebinding attack needs.
 */
export function hostAllowed(header: string | undefined, bound: { host: string; port: number }): boolean {
  if (!header) return false;
  const h = splitHost(header);
  if (!h || h.port !== String(bound.port)) return false;
  const boundName = bound.host.toLowerCase();
  if (isLoopback(boundName)) return isLoopback(h.name);
  if (isWildcard(boundName)) return h.name === 'localhost' || isIP(h.name.replace(/^\[|\]$/g, '')) !== 0;
  return h.name === boundName || h.name === `[${boundName}]`;
}

export interface Auth {
  readonly cookieName: string;
  /** The URL to print: the server's address with the token. */
  url(base: string): string;
  /** Express middleware: Host check, token exchange, cookie check. */
  middleware(req: Request, res: Response, next: NextFunction): void;
  /** For a WebSocket upgrade: undefined when allowed, else the status and reason to refuse it with. */
  checkUpgrade(req: IncomingMessage): { status: number; message: string } | undefined;
}

export const SESSION_COOKIE = 'hurrynet-ui';

export function createAuth(secrets: Secrets, bound: () => { host: string; port: number }): Auth {
  // Cookies are per host, not per port: two servers on one machine must not overwrite each other's.
  const cookieName = () => `${SESSION_COOKIE}-${bound().port}`;
  const hasSession = (cookie: string | undefined) => {
    const value = parseCookies(cookie)[cookieName()];
    return value !== undefined && safeEqual(value, secrets.session);
  };
  const refuse = (res: Response, status: number, message: string) => {
    res.status(status);
    if (res.req.path.startsWith('/api/')) res.json({ error: message });
    else res.type('text/plain').send(`${message}\n`);
  };
  return {
    get cookieName() {
      return cookieName();
    },
    url: (base) => `${base}/?token=${secrets.token}`,
    middleware(req, res, next) {
      if (!hostAllowed(req.headers.host, bound()))
        return refuse(res, 421, `this server answers only to its own address, not to Host "${req.headers.host ?? ''}"`);
      const token = typeof req.query.token === 'string' ? req.query.token : undefined;
      if (token !== undefined) {
        if (!safeEqual(token, secrets.token))
          return refuse(res, 401, 'wrong token: open the address that "hurrynet ui" printed');
        res.setHeader('Set-Cookie', `${cookieName()}=${secrets.session}; HttpOnly; SameSite=Strict; Path=/`);
        // The same page without the token, so that it stays out of the history and of the Referer.
        return res.redirect(303, req.path);
      }
      if (!hasSession(req.headers.cookie))
        return refuse(
          res,
          401,
          'not signed in: open the address that "hurrynet ui" printed (it carries ?token=...), or start it again',
        );
      next();
    },
    checkUpgrade(req) {
      const b = bound();
      if (!hostAllowed(req.headers.host, b)) return { status: 421, message: 'Misdirected Request' };
      if (!hasSession(req.headers.cookie)) return { status: 401, message: 'Unauthorized' };
      // A page elsewhere can open a WebSocket to us with our cookie: only our own pages may.
      if (req.headers.origin !== `http://${req.headers.host}`) return { status: 403, message: 'Forbidden' };
      return undefined;
    },
  };
}
