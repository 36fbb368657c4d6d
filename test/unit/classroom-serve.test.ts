import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appendLinks, linkOf, syncRoster, teacherLink } from '../../orchestrator/classroom/roster.js';
import { lastProgress } from '../../orchestrator/classroom/server.js';
import { Store } from '../../orchestrator/classroom/store.js';
import { checkListen, engineBudget, parseListen } from '../../orchestrator/cli/commands/serve.js';

const stores: Store[] = [];
const open = () => {
  const s = new Store(join(mkdtempSync(join(tmpdir(), 'hn-roster-')), 'class.db'));
  stores.push(s);
  return s;
};
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

const spec = {
  name: 'c',
  labs: ['01'],
  learners: [
    { id: 'ada', name: 'Ada' },
    { id: 'bob', name: 'Bob, B.' },
  ],
};

describe('the roster', () => {
  it('issues a link to each learner once, and again only after a revoke and an add', () => {
    const store = open();
    const first = syncRoster(store, spec, 'http://127.0.0.1:8800/');
    expect(first.map((l) => l.learnerId)).toEqual(['ada', 'bob']);
    expect(first[0]?.url).toMatch(/^http:\/\/127\.0\.0\.1:8800\/\?token=[A-Za-z0-9_-]{43}$/);
    expect(syncRoster(store, spec, 'http://127.0.0.1:8800')).toEqual([]);
    store.revokeLearner('bob');
    // A revoked learner stays revoked at the next start.
    expect(syncRoster(store, spec, 'http://127.0.0.1:8800')).toEqual([]);
    const token = new URL(first[0]?.url ?? '').searchParams.get('token') ?? '';
    expect(store.principalOfToken(token)).toEqual({ role: 'learner', learnerId: 'ada' });
  });
  it('makes a new teacher link at every start and stops the old one', () => {
    const store = open();
    const a = new URL(teacherLink(store, 'http://h:1')).searchParams.get('token') ?? '';
    const b = new URL(teacherLink(store, 'http://h:1')).searchParams.get('token') ?? '';
    expect(store.principalOfToken(a)).toBeUndefined();
    expect(store.principalOfToken(b)).toEqual({ role: 'teacher' });
  });
  it('keeps every row of learners.csv, quotes names, and is readable by its owner only', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hn-csv-')), 'learners.csv');
    writeFileSync(file, 'learner,name,link,issued_at\nold,Old,http://x/?token=t,2026-01-01T00:00:00.000Z\n', {
      mode: 0o644,
    });
    appendLinks(file, [{ learnerId: 'bob', name: 'Bob, "B."', url: linkOf('http://x/', 'tok') }], new Date(0));
    expect(readFileSync(file, 'utf8')).toBe(
      'learner,name,link,issued_at\nold,Old,http://x/?token=t,2026-01-01T00:00:00.000Z\n' +
        'bob,"Bob, ""B.""",http://x/?token=tok,1970-01-01T00:00:00.000Z\n',
    );
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});

describe('the teacher table', () => {
  it('says when a learner last reached a higher score', () => {
    expect(lastProgress([])).toBeUndefined();
    expect(
      lastProgress([
        { score: 3, at: '2026-12-01T10:05:00Z' },
        { score: 1, at: '2026-12-01T10:00:00Z' },
        { score: 3, at: '2026-12-01T10:09:00Z' },
        { score: 2, at: '2026-12-01T10:07:00Z' },
      ]),
    ).toBe('2026-12-01T10:05:00Z');
  });
});

describe('hurrynet serve options', () => {
  it('parses --listen', () => {
    expect(parseListen('127.0.0.1:8800')).toEqual({ host: '127.0.0.1', port: 8800 });
    expect(parseListen('[::1]:443')).toEqual({ host: '::1', port: 443 });
    expect(() => parseListen('8800')).toThrow(/HOST:PORT/);
    expect(() => parseListen('host:99999')).toThrow(/port/);
  });
  it('refuses a network listener without https or a proxy, and half a certificate', () => {
    const listen = { host: '0.0.0.0', port: 8443 };
    expect(() => checkListen({ listen, behindProxy: false })).toThrow(/--cert FILE --key FILE/);
    expect(() => checkListen({ listen, behindProxy: true })).not.toThrow();
    expect(() => checkListen({ listen, cert: 'c.pem', key: 'k.pem', behindProxy: false })).not.toThrow();
    expect(() => checkListen({ listen, cert: 'c.pem', behindProxy: false })).toThrow(/go together/);
    expect(() => checkListen({ listen: { host: '127.0.0.1', port: 1 }, behindProxy: false })).not.toThrow();
  });
});

describe('hurrynet serve --engines', () => {
  it("gives each engine most of its own machine's memory and 8 CPUs a core, unless told", () => {
    const info = { memTotal: 16 * 1024 ** 3, ncpu: 4 };
    expect(engineBudget(info, {})).toEqual({ memoryMb: Math.floor(16 * 1024 * 0.8), cpus: 32 });
    expect(engineBudget(info, { memory: 3000, cpus: 6 })).toEqual({ memoryMb: 3000, cpus: 6 });
    // An engine that does not say falls back to this machine's.
    expect(engineBudget({ memTotal: 0, ncpu: 0 }, {}).memoryMb).toBeGreaterThan(0);
  });
});
