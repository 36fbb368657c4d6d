// The UI server without Docker: the token exchange and its cookie, the Host and Origin checks, the
// page's policy, and the routes' validation (names, bodies, hint levels), against a Docker stand-in.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { runChecks } from '../../checks/runner.js';
import { pass, fail, type Check, type CheckContext } from '../../checks/types.js';
import { journeyDocument } from '../../orchestrator/journey/document.js';
import type { Driver } from '../../orchestrator/runtime/driver.js';
import { LABEL } from '../../orchestrator/runtime/plan.js';
import { natChanges } from '../../orchestrator/ui/api.js';
import { createAuth, hostAllowed, parseCookies, safeEqual } from '../../orchestrator/ui/auth.js';
import { contentSecurityPolicy, createApp } from '../../orchestrator/ui/server.js';
import { attachTerminals, parseControl } from '../../orchestrator/ui/terminal.js';
import { recordedRun } from '../fixtures/journey/recorded.js';
import { node, runCli } from './cli-harness.js';

const I = 't-ui-unit';
const secrets = { token: 'the-token', session: 'the-session' };
let server: Server;
let port = 0;
let origin = '';
let cookie = '';

// Lab 01 runs on instance I, as its labels say; every exec "fails" (no answers file, no report).
const fakeDriver = {
  listContainers: async () =>
    ['alice', 'home', 'isp', 'dns', 'edge', 'web', 'ftp'].map((n) =>
      node(I, n, { [LABEL.lab]: '01', [LABEL.seed]: 'seed-a' }),
    ),
  exec: async () => ({ exitCode: 1, stdout: '', stderr: 'no such file' }),
  ping: async () => undefined,
} as unknown as Driver;

beforeAll(async () => {
  const pageDir = mkdtempSync(join(tmpdir(), 'hn-ui-page-'));
  writeFileSync(join(pageDir, 'index.html'), '<meta name="hn-style-nonce" content="__STYLE_NONCE__">');
  writeFileSync(join(pageDir, 'main.js'), 'export {};');
  const auth = createAuth(secrets, () => ({ host: '127.0.0.1', port }));
  server = createServer(createApp({ driver: fakeDriver, instance: I, auth, pageDir }));
  attachTerminals(server, { driver: fakeDriver, auth, instance: I });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  cookie = `hurrynet-ui-${port}=${secrets.session}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${origin}${path}`, { headers: { cookie, ...headers }, redirect: 'manual' });
const post = (path: string, body: string, type = 'application/json') =>
  fetch(`${origin}${path}`, { method: 'POST', headers: { cookie, 'content-type': type }, body });

/** A GET with any Host header (fetch will not send one of its own choosing). */
function statusWithHost(path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers: { cookie, host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

/** The HTTP status a WebSocket upgrade is answered with (101 when it opens). */
function upgrade(path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('error', reject);
  });
}

describe('the token and the session cookie', () => {
  it('exchanges the token once for an HttpOnly, SameSite=Strict cookie and drops it from the address', async () => {
    const r = await fetch(`${origin}/api/labs?token=${secrets.token}`, { redirect: 'manual' });
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/api/labs');
    const set = r.headers.get('set-cookie') ?? '';
    expect(set).toMatch(new RegExp(`^hurrynet-ui-${port}=${secrets.session};`));
    expect(set).toContain('HttpOnly');
    expect(set).toContain('SameSite=Strict');
    expect(set).toContain('Path=/');
    // The cookie is the session secret, never the token itself.
    expect(set).not.toContain(secrets.token);
  });

  it('refuses every request without the cookie, or with a wrong token or cookie (401)', async () => {
    expect((await fetch(`${origin}/api/labs`)).status).toBe(401);
    expect((await fetch(`${origin}/`)).status).toBe(401);
    expect((await fetch(`${origin}/main.js`)).status).toBe(401);
    expect((await fetch(`${origin}/?token=wrong`, { redirect: 'manual' })).status).toBe(401);
    expect((await get('/api/labs', { cookie: `hurrynet-ui-${port}=guess` })).status).toBe(401);
    // Another server's cookie (another port) is not ours.
    expect((await get('/api/labs', { cookie: `hurrynet-ui-1=${secrets.session}` })).status).toBe(401);
    expect((await get('/api/labs')).status).toBe(200);
  });

  it('answers only to its own Host (421 otherwise: DNS rebinding)', async () => {
    expect(await statusWithHost('/api/labs', `evil.example:${port}`)).toBe(421);
    expect(await statusWithHost('/api/labs', `127.0.0.1:${port + 1}`)).toBe(421);
    expect(await statusWithHost('/', `evil.example:${port}`)).toBe(421);
    expect(await statusWithHost('/api/labs', `localhost:${port}`)).toBe(200);
  });

  it('compares secrets in constant time and reads cookies', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(parseCookies('a=1; b = x%20y; bad; c=')).toEqual({ a: '1', b: 'x y', c: '' });
  });

  it('knows which Host names a server bound to loopback, to one address or to all', () => {
    const lo = { host: '127.0.0.1', port: 9000 };
    expect(hostAllowed('127.0.0.1:9000', lo)).toBe(true);
    expect(hostAllowed('localhost:9000', lo)).toBe(true);
    expect(hostAllowed('[::1]:9000', lo)).toBe(true);
    expect(hostAllowed('attacker.example:9000', lo)).toBe(false);
    expect(hostAllowed('127.0.0.1', lo)).toBe(false);
    expect(hostAllowed(undefined, lo)).toBe(false);
    const all = { host: '0.0.0.0', port: 9000 };
    expect(hostAllowed('10.1.2.3:9000', all)).toBe(true);
    expect(hostAllowed('rebind.example:9000', all)).toBe(false);
    const one = { host: '10.1.2.3', port: 9000 };
    expect(hostAllowed('10.1.2.3:9000', one)).toBe(true);
    expect(hostAllowed('127.0.0.1:9000', one)).toBe(false);
  });
});

describe('the page and its policy', () => {
  it('serves the page with a policy that runs no inline script, and a fresh style nonce each time', async () => {
    const a = await get('/');
    const b = await get('/');
    const csp = a.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe');
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(await a.text()).toContain(`content="${nonce}"`);
    expect(b.headers.get('content-security-policy')).not.toBe(csp);
    // Every other answer carries the policy without a nonce.
    expect((await get('/api/labs')).headers.get('content-security-policy')).toBe(contentSecurityPolicy());
  });
});

describe('instance status', () => {
  it('asks the engine once for two looks within a moment (the page polls; a status costs an exec per node)', async () => {
    const list = vi.spyOn(fakeDriver, 'listContainers');
    try {
      await new Promise((r) => setTimeout(r, 2100)); // past what an earlier test left in the cache
      const first = (await (await get('/api/instance')).json()) as { instance: string; nodes: unknown[] };
      const calls = list.mock.calls.length;
      expect(calls).toBeGreaterThan(0);
      const second = (await (await get('/api/instance')).json()) as { instance: string; nodes: unknown[] };
      expect(list.mock.calls.length).toBe(calls);
      expect(second).toEqual(first);
    } finally {
      list.mockRestore();
    }
  });
});

describe('route validation', () => {
  it('refuses malformed and standby instance names and unknown instances (400)', async () => {
    expect((await get('/api/instance?instance=Bad!')).status).toBe(400);
    expect((await get('/api/instance?instance=standby-abc')).status).toBe(400);
    const r = await get('/api/node?instance=t-nothere&node=alice');
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/no instance "t-nothere" is running/);
  });

  it('refuses malformed node names and nodes the running world lacks (400)', async () => {
    expect((await get('/api/node?node=../etc')).status).toBe(400);
    const r = await get('/api/node?node=mallory');
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/unknown node "mallory"/);
    expect((await get('/api/node?node=home')).status).toBe(200);
  });

  it('refuses a body over 64 kB (413), one that is not JSON (415) and broken JSON (400)', async () => {
    const big = await post('/api/start', JSON.stringify({ lab: '1', pad: 'x'.repeat(70 * 1024) }));
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: string }).error).toMatch(/larger than 64 kB/);
    expect((await post('/api/stop', 'instance=x', 'application/x-www-form-urlencoded')).status).toBe(415);
    expect((await post('/api/stop', '{nope')).status).toBe(400);
    expect((await post('/api/start', JSON.stringify({ lab: '../1' }))).status).toBe(400);
    expect((await post('/api/start', JSON.stringify({ lab: 'nosuchlab' }))).status).toBe(400);
    expect((await post('/api/journey', JSON.stringify({ preset: 'nosuch' }))).status).toBe(400);
  });

  it('gives hints one level at a time for a check of the running lab', async () => {
    const two = await get('/api/hint?check=create&level=2');
    expect(two.status).toBe(200);
    const body = (await two.json()) as { hints: string[]; maxLevel: number };
    expect(body.hints).toHaveLength(2);
    expect(body.maxLevel).toBe(3);
    expect((await get('/api/hint?check=create&level=4')).status).toBe(400);
    expect((await get('/api/hint?check=create&level=0')).status).toBe(400);
    expect((await get('/api/hint?check=nosuch&level=1')).status).toBe(400);
  });

  it('lists the labs and draws the running world with clickable nodes', async () => {
    const labs = (await (await get('/api/labs')).json()) as { id: string }[];
    expect(labs[0]?.id).toBe('01');
    const world = (await (await get('/api/world')).json()) as { lab: string; svg: string };
    expect(world.lab).toBe('01');
    expect(world.svg).toContain('data-node="alice"');
    expect(world.svg).toContain('data-link="lan"');
  });

  it('answers 404 for routes it does not have', async () => {
    expect((await get('/api/docker/containers')).status).toBe(404);
  });
});

describe('terminal sockets', () => {
  const path = (q: string) => `/ws/terminal?${q}`;
  it('refuses a socket from another origin (403), without the cookie (401) or to another Host (421)', async () => {
    expect(await upgrade(path('node=alice'), { cookie, origin: 'http://evil.example' })).toBe(403);
    expect(await upgrade(path('node=alice'), { cookie, origin: 'null' })).toBe(403);
    expect(await upgrade(path('node=alice'), { origin })).toBe(401);
    expect(await upgrade(path('node=alice'), { cookie, origin, host: `evil.example:${port}` })).toBe(421);
  });

  it('refuses a node or instance that the running world does not have (400)', async () => {
    expect(await upgrade(path('node=mallory'), { cookie, origin })).toBe(400);
    expect(await upgrade(path('node=a%20b'), { cookie, origin })).toBe(400);
    expect(await upgrade(path('node=alice&instance=Nope!'), { cookie, origin })).toBe(400);
    expect(await upgrade(path('node=alice&instance=t-other'), { cookie, origin })).toBe(400);
    expect(await upgrade('/ws/other?node=alice', { cookie, origin })).toBe(404);
  });

  it('reads resize messages and ignores anything else', () => {
    expect(parseControl('{"type":"resize","cols":120,"rows":40}')).toEqual({ type: 'resize', cols: 120, rows: 40 });
    expect(parseControl('{"type":"resize","cols":99999,"rows":40}')).toEqual({ type: 'resize', cols: 80, rows: 40 });
    expect(parseControl('{"type":"exec","cmd":"rm"}')).toBeUndefined();
    expect(parseControl('not json')).toBeUndefined();
  });
});

describe('what the page shows', () => {
  it("picks the NAT rewrites out of a journey: the home router's source NAT first", () => {
    const nat = natChanges(journeyDocument(recordedRun('web')));
    expect(nat.find((c) => c.node === 'home' && c.why === 'snat')).toMatchObject({
      field: 'src ip',
      from: '192.168.1.101',
      to: '203.0.113.5',
    });
    expect(nat.some((c) => c.node === 'edge' && c.why === 'dnat')).toBe(true);
  });

  it('hears of each check as soon as it finishes (runChecks onResult)', async () => {
    const check = (id: string, ok: boolean): Check => ({
      id,
      title: id,
      points: 1,
      hint: ['look', 'tool', 'fix'],
      deadlineMs: 0,
      run: async () => (ok ? pass('fine') : fail('not yet')),
    });
    const ctx = { instance: I, timeScale: 1, vars: {} } as unknown as CheckContext;
    const seen: string[] = [];
    const onResult = vi.fn((r: { id: string; status: string }) => seen.push(`${r.id}:${r.status}`));
    const report = await runChecks(
      [check('a', true), check('b', false)],
      ctx,
      { lab: '01', title: 't', instance: I, seed: 's' },
      undefined,
      { onResult },
    );
    expect(onResult).toHaveBeenCalledTimes(2);
    expect(seen.sort()).toEqual(['a:passed', 'b:failed']);
    expect(report.results).toHaveLength(2);
  });
});

describe('hurrynet ui on the command line', () => {
  it('says what is wrong with --port and --host (usage errors, exit 2)', async () => {
    const port = await runCli(['ui', '--port', 'abc'], () => fakeDriver);
    expect(port.code).toBe(2);
    expect(port.commander).toMatch(/port number/);
    const host = await runCli(['ui', '--host', 'a b'], () => fakeDriver);
    expect(host.code).toBe(2);
    expect(host.commander).toMatch(/address or host name/);
    const standby = await runCli(['ui', '--instance', 'standby-x'], () => fakeDriver);
    expect(standby.code).toBe(2);
  });
});
