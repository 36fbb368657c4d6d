// Watching a terminal read-only, without Docker: the replay ring (bounded, newest bytes, in order),
// the registry of live terminals (listed per instance, watchers told of the end), and the watch
// socket against a stand-in shell: a watcher gets the replay and the live output, and nothing it
// sends reaches the shell.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Driver, TerminalSession } from '../../orchestrator/runtime/driver.js';
import { createAuth } from '../../orchestrator/ui/auth.js';
import { attachTerminals } from '../../orchestrator/ui/terminal.js';
import { ByteRing, MAX_WATCHERS, TerminalRegistry, type Watcher } from '../../orchestrator/ui/terminal-watch.js';
import { node } from './cli-harness.js';

describe('the replay ring', () => {
  it('keeps everything while it fits, in order', () => {
    const r = new ByteRing(16);
    expect(r.snapshot().length).toBe(0);
    r.push(Buffer.from('abc'));
    r.push(Buffer.from('def'));
    expect(r.snapshot().toString()).toBe('abcdef');
    expect(r.size).toBe(6);
  });

  it('keeps only the newest bytes once full, across the wrap', () => {
    const r = new ByteRing(8);
    for (const s of ['12345', '6789', 'ab', 'cdefg']) r.push(Buffer.from(s));
    expect(r.snapshot().toString()).toBe('9abcdefg');
    expect(r.size).toBe(8);
    r.push(Buffer.from('h'));
    expect(r.snapshot().toString()).toBe('abcdefgh');
  });

  it('takes only the tail of a chunk larger than itself', () => {
    const r = new ByteRing(4);
    r.push(Buffer.from('xy'));
    r.push(Buffer.from('0123456789'));
    expect(r.snapshot().toString()).toBe('6789');
  });

  it('stays within its bound however much goes through it', () => {
    const r = new ByteRing(1024);
    let all = '';
    for (let i = 0; i < 2000; i++) {
      const s = `line ${i}\r\n`;
      all += s;
      r.push(Buffer.from(s));
    }
    expect(r.size).toBe(1024);
    expect(r.snapshot().toString()).toBe(all.slice(-1024));
  });

  it('refuses a size that holds nothing', () => {
    expect(() => new ByteRing(0)).toThrow(RangeError);
  });
});

/** A watcher that writes down what it is told. */
function recorder(): Watcher & { got: string[] } {
  const got: string[] = [];
  return {
    got,
    output: (c) => got.push(`out:${c.toString()}`),
    resize: (cols, rows) => got.push(`size:${cols}x${rows}`),
    exit: (code) => got.push(`exit:${code}`),
  };
}

describe('the registry of live terminals', () => {
  it('lists terminals per instance, oldest first, until they end', () => {
    let t = 0;
    const changes: string[] = [];
    const reg = new TerminalRegistry({ now: () => new Date(1000 * ++t), onChange: (i) => changes.push(i.node) });
    const a = reg.add({ instance: 'class-bob', node: 'alice', cols: 80, rows: 24, bound: true });
    const b = reg.add({ instance: 'class-bob', node: 'home', cols: 80, rows: 24 });
    reg.add({ instance: 'class-ada', node: 'alice', cols: 80, rows: 24 });
    expect(reg.list('class-bob').map((i) => i.node)).toEqual(['alice', 'home']);
    expect(reg.list()).toHaveLength(3);
    expect(a.info.id).not.toBe(b.info.id);
    // Who opened it: a learner's own session (bound), or the teacher helping there.
    expect([a.info.bound, b.info.bound]).toEqual([true, false]);
    a.end(0);
    a.end(0); // idempotent
    expect(reg.list('class-bob').map((i) => i.node)).toEqual(['home']);
    expect(reg.get(a.info.id)).toBeUndefined();
    expect(changes).toEqual(['alice', 'home', 'alice', 'alice']);
  });

  it('gives a watcher the size and the replay, then live output, then the end', () => {
    const reg = new TerminalRegistry({ replayBytes: 8 });
    const t = reg.add({ instance: 'i', node: 'alice', cols: 80, rows: 24 });
    t.output(Buffer.from('old-'));
    t.output(Buffer.from('class-42'));
    const w = recorder();
    reg.watch(t.info.id, w);
    t.resize(100, 30);
    t.output(Buffer.from('more'));
    t.end(3);
    t.output(Buffer.from('after the end'));
    expect(w.got).toEqual(['size:80x24', 'out:class-42', 'size:100x30', 'out:more', 'exit:3']);
    expect(reg.watchers(t.info.id)).toBe(0);
  });

  it('stops telling a watcher who left, and refuses an unknown terminal or too many watchers', () => {
    const reg = new TerminalRegistry();
    const t = reg.add({ instance: 'i', node: 'alice', cols: 80, rows: 24 });
    const w = recorder();
    const leave = reg.watch(t.info.id, w);
    leave();
    t.output(Buffer.from('x'));
    expect(w.got).toEqual(['size:80x24']);
    expect(() => reg.watch('nope', recorder())).toThrow(/no such terminal/);
    for (let i = 0; i < MAX_WATCHERS; i++) reg.watch(t.info.id, recorder());
    expect(() => reg.watch(t.info.id, recorder())).toThrow(/at most/);
  });
});

describe('the watch socket', () => {
  const I = 't-watch-unit';
  const secrets = { token: 'the-token', session: 'the-session' };
  const written: string[] = [];
  const resized: string[] = [];
  let shell: { output: PassThrough; finish: (code: number) => void } | undefined;
  const fakeDriver = {
    listContainers: async () => [node(I, 'alice')],
    terminal: async (): Promise<TerminalSession> => {
      const output = new PassThrough();
      let finish: (code: number) => void = () => undefined;
      const exited = new Promise<number>((r) => (finish = r));
      shell = { output, finish };
      return {
        output,
        write: (d) => void written.push(d.toString()),
        resize: async (c, r) => void resized.push(`${c}x${r}`),
        exited,
        close: () => finish(-1),
      };
    },
  } as unknown as Driver;
  const registry = new TerminalRegistry();
  let allowed = true;
  const watched: string[] = [];
  let server: Server;
  let port = 0;
  let close: () => void = () => undefined;
  const url = (path: string) => `ws://127.0.0.1:${port}${path}`;
  const headers = () => ({ cookie: `hurrynet-ui-${port}=${secrets.session}`, origin: `http://127.0.0.1:${port}` });

  beforeAll(async () => {
    server = createServer();
    const auth = createAuth(secrets, () => ({ host: '127.0.0.1', port }));
    close = attachTerminals(server, {
      driver: fakeDriver,
      auth,
      instance: I,
      terminals: registry,
      mayWatch: () => allowed,
      onWatch: (_req, t) => void watched.push(t.node),
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  /** Frames a socket receives, text as notices and binary as output. */
  function collect(ws: WebSocket): string[] {
    const got: string[] = [];
    ws.on('message', (d: Buffer, binary: boolean) => got.push(binary ? `out:${d.toString()}` : d.toString()));
    return got;
  }
  const until = async (ok: () => boolean) => {
    for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(ok()).toBe(true);
  };
  const statusOf = (path: string) =>
    new Promise<number>((resolve, reject) => {
      const s = new WebSocket(url(path), { headers: headers() });
      s.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      s.on('open', () => {
        s.close();
        resolve(101);
      });
      s.on('error', reject);
    });

  it('replays, streams and drops whatever the watcher sends; the end closes it', async () => {
    const learner = new WebSocket(url('/ws/terminal?node=alice&cols=90&rows=30'), { headers: headers() });
    const mine = collect(learner);
    await until(() => mine.some((m) => m.includes('"ready"')));
    shell?.output.write('class-42\r\n');
    await until(() => mine.includes('out:class-42\r\n'));
    const [t] = registry.list(I);
    expect(t).toMatchObject({ node: 'alice', cols: 90, rows: 30 });

    const watcher = new WebSocket(url(`/ws/watch?session=${t?.id ?? ''}`), { headers: headers() });
    const seen = collect(watcher);
    const closed = new Promise<void>((r) => watcher.on('close', () => r()));
    await until(() => seen.includes('out:class-42\r\n'));
    expect(seen[0]).toBe('{"type":"ready","node":"alice"}');
    expect(seen).toContain('{"type":"resize","cols":90,"rows":30}');
    expect(watched).toEqual(['alice']);

    watcher.send(Buffer.from('echo leak\r'));
    watcher.send(JSON.stringify({ type: 'resize', cols: 20, rows: 5 }));
    learner.send(Buffer.from('ls\r'));
    await until(() => written.includes('ls\r'));
    expect(written).toEqual(['ls\r']);
    expect(resized).toEqual([]);

    shell?.output.write('watched-25');
    await until(() => seen.includes('out:watched-25'));
    shell?.finish(0);
    await closed;
    expect(seen).toContain('{"type":"exit","code":0}');
    await until(() => registry.list(I).length === 0);
    learner.close();
  });

  it('refuses an unknown terminal (404), one the hook refuses (403), and a foreign origin (403)', async () => {
    expect(await statusOf('/ws/watch?session=nope')).toBe(404);
    const learner = new WebSocket(url('/ws/terminal?node=alice'), { headers: headers() });
    await until(() => registry.list(I).length === 1);
    const id = registry.list(I)[0]?.id ?? '';
    allowed = false;
    expect(await statusOf(`/ws/watch?session=${id}`)).toBe(403);
    allowed = true;
    const foreign = await new Promise<number>((resolve) => {
      const s = new WebSocket(url(`/ws/watch?session=${id}`), {
        headers: { ...headers(), origin: 'http://evil.example' },
      });
      s.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    });
    expect(foreign).toBe(403);
    learner.close();
    await until(() => registry.list(I).length === 0);
  });

  it('refuses all watching on a server without the hook (403)', async () => {
    const plain = createServer();
    let p = 0;
    const stop = attachTerminals(plain, {
      driver: fakeDriver,
      auth: createAuth(secrets, () => ({ host: '127.0.0.1', port: p })),
      instance: I,
    });
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    p = (plain.address() as AddressInfo).port;
    const code = await new Promise<number>((resolve) => {
      const s = new WebSocket(`ws://127.0.0.1:${p}/ws/watch?session=x`, {
        headers: { cookie: `hurrynet-ui-${p}=${secrets.session}`, origin: `http://127.0.0.1:${p}` },
      });
      s.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    });
    expect(code).toBe(403);
    stop();
    await new Promise((r) => plain.close(r));
  });
});
