// Who may use the class server: whoever opens a link the store knows (a learner's or the
// teacher's). As in the ui server (ui/auth.ts), the link's token is exchanged for an HttpOnly,
// SameSite=Strict cookie holding a separate session secret, and the browser is redirected without
// it; sessions live in the store, so a restarted server keeps them. Failed attempts are
// rate-limited per client address and written to the audit log.
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { hostAllowed, parseCookies, type Auth } from '../ui/auth.js';
import { createLimiter, DEFAULT_RATE_LIMIT, type RateLimit } from './rate-limit.js';
import type { Principal, Store } from './store.js';
import { looksLikeToken } from './tokens.js';

export const CLASS_COOKIE = 'hurrynet-class';

export interface ClassAuthOptions {
  store: Store;
  bound: () => { host: string; port: number };
  /** Served over https (directly or by a proxy): cookies get Secure. */
  secure: boolean;
  /** A reverse proxy in front sets Host and X-Forwarded-For: the Host check is its job then. */
  behindProxy: boolean;
  rateLimit?: RateLimit;
  clock?: () => number;
}

export interface ClassAuth extends Auth {
  /** The signed-in principal of a request that passed the middleware or the upgrade check. */
  principal(req: IncomingMessage): Principal | undefined;
}

/** The address a failed attempt is counted against: behind a proxy, the one it saw last. */
export function clientKey(req: IncomingMessage, behindProxy: boolean): string {
  const forwarded = req.headers['x-forwarded-for'];
  if (behindProxy && typeof forwarded === 'string' && forwarded.trim())
    return (forwarded.split(',').pop() as string).trim();
  return req.socket.remoteAddress ?? 'unknown';
}

export function createClassAuth(opts: ClassAuthOptions): ClassAuth {
  const { store } = opts;
  const limiter = createLimiter(opts.rateLimit ?? DEFAULT_RATE_LIMIT, opts.clock);
  const cookieName = () => `${CLASS_COOKIE}-${opts.bound().port}`;
  const fromCookie = (req: IncomingMessage): Principal | undefined => {
    const secret = parseCookies(req.headers.cookie)[cookieName()];
    return looksLikeToken(secret) ? store.principalOfSession(secret) : undefined;
  };
  const hostOk = (req: IncomingMessage) => opts.behindProxy || hostAllowed(req.headers.host, opts.bound());
  const refuse = (res: Response, status: number, message: string, retryMs?: number) => {
    if (retryMs !== undefined) res.setHeader('Retry-After', String(Math.ceil(retryMs / 1000)));
    res.status(status);
    if (res.req.path.startsWith('/api/') || res.req.path.startsWith('/teacher/')) res.json({ error: message });
    else res.type('text/plain').send(`${message}\n`);
  };
  const signedIn = new WeakMap<IncomingMessage, Principal>();
  return {
    get cookieName() {
      return cookieName();
    },
    url: (base) => base,
    principal: (req) => signedIn.get(req) ?? fromCookie(req),
    middleware(req: Request, res: Response, next: NextFunction) {
      if (!hostOk(req))
        return refuse(res, 421, `this server answers only to its own address, not to Host "${req.headers.host ?? ''}"`);
      const token = req.query.token;
      if (token !== undefined) {
        const key = clientKey(req, opts.behindProxy);
        const wait = limiter.blockedFor(key);
        if (wait !== undefined) return refuse(res, 429, 'too many wrong links from your address: wait a minute', wait);
        const who = looksLikeToken(token) ? store.principalOfToken(token) : undefined;
        if (!who) {
          limiter.fail(key);
          store.audit(key, 'sign-in refused', 'unknown or revoked link');
          return refuse(res, 401, 'this link does not work (wrong, or revoked): ask your teacher for yours');
        }
        const secret = store.createSession(who);
        store.audit(who.learnerId ?? 'teacher', 'signed in', key);
        res.setHeader(
          'Set-Cookie',
          `${cookieName()}=${secret}; HttpOnly; SameSite=Strict; Path=/${opts.secure ? '; Secure' : ''}`,
        );
        // Without the token, so that it stays out of the history and of the Referer.
        return res.redirect(303, who.role === 'teacher' ? '/teacher' : '/');
      }
      const who = fromCookie(req);
      if (!who) return refuse(res, 401, 'not signed in: open your personal link (it carries ?token=...)');
      signedIn.set(req, who);
      next();
    },
    checkUpgrade(req) {
      if (!hostOk(req)) return { status: 421, message: 'Misdirected Request' };
      const who = fromCookie(req);
      if (!who) return { status: 401, message: 'Unauthorized' };
      // Only our own pages may open a WebSocket with our cookie.
      const origin = req.headers.origin;
      if (origin !== `http://${req.headers.host}` && origin !== `https://${req.headers.host}`)
        return { status: 403, message: 'Forbidden' };
      signedIn.set(req, who);
      return undefined;
    },
  };
}
