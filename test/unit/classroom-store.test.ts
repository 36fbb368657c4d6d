import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CheckResult, Report } from '../../checks/types.js';
import { SCHEMA_VERSION, SESSION_TTL_MS, Store } from '../../orchestrator/classroom/store.js';
import { hashToken } from '../../orchestrator/classroom/tokens.js';

let dir: string;
let file: string;
let stores: Store[];
let now: Date;

function open(): Store {
  const s = new Store(file, () => now);
  stores.push(s);
  return s;
}

function closeAll(): void {
  for (const s of stores.splice(0))
    try {
      s.close();
    } catch {
      /* already closed */
    }
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hn-classroom-'));
  file = join(dir, 'class.sqlite');
  stores = [];
  now = new Date('2026-03-01T10:00:00.000Z');
});

afterEach(() => {
  closeAll();
  rmSync(dir, { recursive: true, force: true });
});

function check(id: string, earned: number, over: Partial<CheckResult> = {}): CheckResult {
  return {
    id,
    title: `check ${id}`,
    points: 2,
    earned,
    required: true,
    passed: earned === 2,
    status: earned === 2 ? 'passed' : 'failed',
    reason: 'r',
    evidence: [],
    attempts: 1,
    ms: 10,
    ...over,
  };
}

function report(lab: string, results: CheckResult[], startedAt = '2026-03-01T10:05:00.000Z'): Report {
  const score = results.reduce((a, r) => a + r.earned, 0);
  return {
    lab,
    title: `Lab ${lab}`,
    instance: 'class-ada',
    seed: 's1',
    score,
    maxScore: results.reduce((a, r) => a + r.points, 0),
    passed: results.every((r) => r.passed || !r.required),
    inconclusive: results.filter((r) => r.status === 'inconclusive').map((r) => r.id),
    results,
    ms: 1234,
    startedAt,
  };
}

/** Every byte SQLite keeps for the class, the write-ahead log included. */
function filesText(): string {
  return readdirSync(dir)
    .map((f) => readFileSync(join(dir, f)).toString('latin1'))
    .join('\n');
}

describe('classroom store: schema', () => {
  it('migrates a new file to the current schema version, and reopens without migrating again', () => {
    const s = open();
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(1);
    expect(s.schemaVersion()).toBe(SCHEMA_VERSION);
    s.close();
    const db = new Database(file);
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[])
      .map((t) => t.name)
      .filter((n) => !n.startsWith('sqlite_'))
      .sort();
    expect(tables).toEqual(['audit', 'check_results', 'check_runs', 'learners', 'sessions', 'tokens']);
    db.close();
    expect(open().schemaVersion()).toBe(SCHEMA_VERSION);
  });

  it('refuses data written by a newer schema', () => {
    open().close();
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => open()).toThrow(/newer hurrynet/);
  });
});

describe('classroom store: learners', () => {
  it('adds, lists (by id), finds and updates learners', () => {
    const s = open();
    s.upsertLearner({ id: 'bob', name: 'Bob' });
    s.upsertLearner({ id: 'ada', name: 'Ada', seed: 's1' });
    expect(s.learners()).toEqual([
      { id: 'ada', name: 'Ada', seed: 's1', createdAt: now.toISOString(), revokedAt: null, engine: null },
      { id: 'bob', name: 'Bob', seed: null, createdAt: now.toISOString(), revokedAt: null, engine: null },
    ]);
    expect(s.learner('bob')?.name).toBe('Bob');
    expect(s.learner('nobody')).toBeUndefined();
    const created = now.toISOString();
    now = new Date('2026-03-02T00:00:00.000Z');
    s.upsertLearner({ id: 'ada', name: 'Ada L.' });
    expect(s.learner('ada')).toEqual({
      id: 'ada',
      name: 'Ada L.',
      seed: null,
      createdAt: created,
      revokedAt: null,
      engine: null,
    });
    expect(s.learners()).toHaveLength(2);
  });

  it('revokes a learner once; upserting again un-revokes them', () => {
    const s = open();
    s.upsertLearner({ id: 'ada', name: 'Ada' });
    expect(s.revokeLearner('ada')).toBe(true);
    expect(s.learner('ada')?.revokedAt).toBe(now.toISOString());
    expect(s.revokeLearner('ada')).toBe(false);
    expect(s.revokeLearner('nobody')).toBe(false);
    s.upsertLearner({ id: 'ada', name: 'Ada' });
    expect(s.learner('ada')?.revokedAt).toBeNull();
  });
});

describe('classroom store: tokens and sessions', () => {
  it('keeps only the hash of a token and knows whose it is', () => {
    const s = open();
    s.upsertLearner({ id: 'ada', name: 'Ada' });
    const learnerToken = s.issueToken({ role: 'learner', learnerId: 'ada' });
    const teacherToken = s.issueToken({ role: 'teacher' });
    expect(learnerToken).not.toBe(teacherToken);
    expect(s.principalOfToken(learnerToken)).toEqual({ role: 'learner', learnerId: 'ada' });
    expect(s.principalOfToken(teacherToken)).toEqual({ role: 'teacher' });
    expect(s.principalOfToken('x'.repeat(43))).toBeUndefined();
    expect(s.principalOfToken(hashToken(learnerToken))).toBeUndefined();
    expect(s.hasActiveToken('ada')).toBe(true);
    s.close();

    const db = new Database(file, { readonly: true });
    const rows = db.prepare(`SELECT hash, role, learner_id FROM tokens ORDER BY role`).all();
    db.close();
    expect(rows).toEqual([
      { hash: hashToken(learnerToken), role: 'learner', learner_id: 'ada' },
      { hash: hashToken(teacherToken), role: 'teacher', learner_id: null },
    ]);
    const raw = filesText();
    expect(raw).not.toContain(learnerToken);
    expect(raw).not.toContain(teacherToken);
    expect(raw).toContain(hashToken(learnerToken));
  });

  it('revokeOthers replaces the earlier links of the same principal only', () => {
    const s = open();
    s.upsertLearner({ id: 'ada', name: 'Ada' });
    s.upsertLearner({ id: 'bob', name: 'Bob' });
    const a1 = s.issueToken({ role: 'learner', learnerId: 'ada' });
    const a2 = s.issueToken({ role: 'learner', learnerId: 'ada' });
    const b1 = s.issueToken({ role: 'learner', learnerId: 'bob' });
    const t1 = s.issueToken({ role: 'teacher' });
    // Without revokeOthers, both of ada's links work.
    expect(s.principalOfToken(a1)).toBeDefined();
    expect(s.principalOfToken(a2)).toBeDefined();
    const a3 = s.issueToken({ role: 'learner', learnerId: 'ada' }, { revokeOthers: true });
    expect(s.principalOfToken(a1)).toBeUndefined();
    expect(s.principalOfToken(a2)).toBeUndefined();
    expect(s.principalOfToken(a3)).toEqual({ role: 'learner', learnerId: 'ada' });
    expect(s.principalOfToken(b1)).toEqual({ role: 'learner', learnerId: 'bob' });
    expect(s.principalOfToken(t1)).toEqual({ role: 'teacher' });
    const t2 = s.issueToken({ role: 'teacher' }, { revokeOthers: true });
    expect(s.principalOfToken(t1)).toBeUndefined();
    expect(s.principalOfToken(t2)).toEqual({ role: 'teacher' });
    expect(s.principalOfToken(a3)).toBeDefined();
    expect(s.principalOfToken(b1)).toBeDefined();
  });

  it('refuses tokens for unknown learners and learner tokens without a learner', () => {
    const s = open();
    expect(() => s.issueToken({ role: 'learner', learnerId: 'ghost' })).toThrow();
    expect(() => s.issueToken({ role: 'learner' })).toThrow();
  });

  it('revoking a learner stops their links and sessions at once, not others', () => {
    const s = open();
    s.upsertLearner({ id: 'ada', name: 'Ada' });
    s.upsertLearner({ id: 'bob', name: 'Bob' });
    const a = s.issueToken({ role: 'learner', learnerId: 'ada' });
    const b = s.issueToken({ role: 'learner', learnerId: 'bob' });
    const t = s.issueToken({ role: 'teacher' });
    const as = s.createSession({ role: 'learner', learnerId: 'ada' });
    const bs = s.createSession({ role: 'learner', learnerId: 'bob' });
    const ts = s.createSession({ role: 'teacher' });
    expect(s.revokeLearner('ada')).toBe(true);
    expect(s.principalOfToken(a)).toBeUndefined();
    expect(s.principalOfSession(as)).toBeUndefined();
    expect(s.hasActiveToken('ada')).toBe(false);
    expect(s.principalOfToken(b)).toEqual({ role: 'learner', learnerId: 'bob' });
    expect(s.principalOfSession(bs)).toEqual({ role: 'learner', learnerId: 'bob' });
    expect(s.principalOfToken(t)).toEqual({ role: 'teacher' });
    expect(s.principalOfSession(ts)).toEqual({ role: 'teacher' });
    // A token issued while the learner is revoked does not work either.
    const late = s.issueToken({ role: 'learner', learnerId: 'ada' });
    expect(s.principalOfToken(late)).toBeUndefined();
    const lateSession = s.createSession({ role: 'learner', learnerId: 'ada' });
    expect(s.principalOfSession(lateSession)).toBeUndefined();
    // Re-admitted: the old link stays dead, a new one works.
    s.upsertLearner({ id: 'ada', name: 'Ada' });
    expect(s.principalOfToken(a)).toBeUndefined();
    expect(s.principalOfToken(s.issueToken({ role: 'learner', learnerId: 'ada' }))).toBeDefined();
  });

  it('sessions are hashed, expire after their TTL, and expired ones are deleted', () => {
    const s = open();
    s.upsertLearner({ id: 'ada', name: 'Ada' });
    const short = s.createSession({ role: 'learner', learnerId: 'ada' }, 60_000);
    const long = s.createSession({ role: 'teacher' });
    expect(short).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s.principalOfSession(short)).toEqual({ role: 'learner', learnerId: 'ada' });
    expect(s.principalOfSession('y'.repeat(43))).toBeUndefined();
    now = new Date(+now + 59_999);
    expect(s.principalOfSession(short)).toBeDefined();
    now = new Date(+now + 1);
    expect(s.principalOfSession(short)).toBeUndefined();
    expect(s.principalOfSession(long)).toEqual({ role: 'teacher' });
    expect(s.deleteExpiredSessions()).toBe(1);
    expect(s.deleteExpiredSessions()).toBe(0);
    now = new Date(+now + SESSION_TTL_MS);
    expect(s.principalOfSession(long)).toBeUndefined();
    expect(s.deleteExpiredSessions()).toBe(1);
    s.close();
    const raw = filesText();
    expect(raw).not.toContain(short);
    expect(raw).not.toContain(long);
  });

  it('the default session TTL is 12 hours', () => {
    const s = open();
    const secret = s.createSession({ role: 'teacher' });
    now = new Date(+now + 12 * 3600_000 - 1);
    expect(s.principalOfSession(secret)).toEqual({ role: 'teacher' });
    now = new Date(+now + 1);
    expect(s.principalOfSession(secret)).toBeUndefined();
  });
});

describe('classroom store: check history', () => {
  it('records runs and each check, and gives the newest report of each learner', () => {
    const s = open();
    s.upsertLearner({ id: 'ada', name: 'Ada' });
    s.upsertLearner({ id: 'bob', name: 'Bob' });
    const r1 = s.recordRun('ada', report('01', [check('a', 0), check('b', 0)], '2026-03-01T10:01:00.000Z'));
    const r2 = s.recordRun('ada', report('01', [check('a', 2), check('b', 0)], '2026-03-01T10:02:00.000Z'));
    const r3 = s.recordRun('bob', report('01', [check('a', 2), check('b', 2)], '2026-03-01T10:03:00.000Z'));
    const r4 = s.recordRun('ada', report('03', [check('x', 2)], '2026-03-01T10:04:00.000Z'));
    expect(new Set([r1, r2, r3, r4]).size).toBe(4);
    expect(r2).toBeGreaterThan(r1);

    expect(s.runs('ada', '01')).toEqual([
      { id: r1, learnerId: 'ada', lab: '01', score: 0, maxScore: 4, passed: false, at: '2026-03-01T10:01:00.000Z' },
      { id: r2, learnerId: 'ada', lab: '01', score: 2, maxScore: 4, passed: false, at: '2026-03-01T10:02:00.000Z' },
    ]);
    expect(s.runs('bob', '01')[0]).toMatchObject({ score: 4, passed: true });
    expect(s.runs('bob', '03')).toEqual([]);
    expect(s.runs('ada', '03')).toHaveLength(1);

    const history = s.checkHistory('ada', '01');
    expect(history.map((h) => [h.runId, h.checkId, h.status, h.earned])).toEqual([
      [r1, 'a', 'failed', 0],
      [r1, 'b', 'failed', 0],
      [r2, 'a', 'passed', 2],
      [r2, 'b', 'failed', 0],
    ]);
    expect(history[0]).toEqual({
      runId: r1,
      learnerId: 'ada',
      lab: '01',
      checkId: 'a',
      status: 'failed',
      points: 2,
      earned: 0,
      at: '2026-03-01T10:01:00.000Z',
    });

    const latest = s.latestReports('01');
    expect([...latest.keys()].sort()).toEqual(['ada', 'bob']);
    expect(latest.get('ada')?.score).toBe(2);
    expect(latest.get('ada')?.startedAt).toBe('2026-03-01T10:02:00.000Z');
    expect(latest.get('bob')).toEqual(report('01', [check('a', 2), check('b', 2)], '2026-03-01T10:03:00.000Z'));
    expect([...s.latestReports('03').keys()]).toEqual(['ada']);
    expect(s.latestReports('99').size).toBe(0);
  });

  it('keeps inconclusive checks and fractional points, and dates a run without startedAt', () => {
    const s = open();
    s.upsertLearner({ id: 'ada', name: 'Ada' });
    const r = report('01', [check('a', 0.5, { points: 1.5 }), check('b', 0, { status: 'inconclusive' })], '');
    s.recordRun('ada', r);
    expect(s.runs('ada', '01')[0]).toMatchObject({ score: 0.5, maxScore: 3.5, at: now.toISOString() });
    expect(s.checkHistory('ada', '01').map((c) => [c.status, c.points, c.earned])).toEqual([
      ['failed', 1.5, 0.5],
      ['inconclusive', 2, 0],
    ]);
    expect(s.latestReports('01').get('ada')?.inconclusive).toEqual(['b']);
  });

  it('refuses runs of unknown learners, and a revoked learner keeps their history', () => {
    const s = open();
    expect(() => s.recordRun('ghost', report('01', [check('a', 2)]))).toThrow();
    expect(s.latestReports('01').size).toBe(0);
    s.upsertLearner({ id: 'ada', name: 'Ada' });
    s.recordRun('ada', report('01', [check('a', 2)]));
    s.revokeLearner('ada');
    expect(s.runs('ada', '01')).toHaveLength(1);
    expect(s.latestReports('01').has('ada')).toBe(true);
  });
});

describe('classroom store: audit log', () => {
  it('lists the newest entries first, up to a limit', () => {
    const s = open();
    for (let i = 0; i < 5; i++) {
      now = new Date(Date.UTC(2026, 2, 1, 10, i));
      s.audit(`actor${i}`, 'did', `detail ${i}`);
    }
    s.audit('teacher', 'no detail');
    const log = s.auditLog();
    expect(log.map((e) => e.actor)).toEqual(['teacher', 'actor4', 'actor3', 'actor2', 'actor1', 'actor0']);
    expect(log[0]).toMatchObject({ actor: 'teacher', action: 'no detail', detail: '' });
    expect(log[1]).toEqual({
      id: log[1]?.id,
      at: '2026-03-01T10:04:00.000Z',
      actor: 'actor4',
      action: 'did',
      detail: 'detail 4',
    });
    expect(s.auditLog(2).map((e) => e.actor)).toEqual(['teacher', 'actor4']);
    expect(s.auditLog(0)).toEqual([]);
  });

  it('keeps at most 200 entries by default', () => {
    const s = open();
    for (let i = 0; i < 205; i++) s.audit('a', `n${i}`);
    const log = s.auditLog();
    expect(log).toHaveLength(200);
    expect(log[0]?.action).toBe('n204');
  });
});

describe('classroom store: a restarted server', () => {
  it('finds learners, tokens, sessions, history and the audit log again', () => {
    const s = open();
    s.upsertLearner({ id: 'ada', name: 'Ada', seed: 's1' });
    s.upsertLearner({ id: 'bob', name: 'Bob' });
    const token = s.issueToken({ role: 'learner', learnerId: 'ada' });
    const teacher = s.issueToken({ role: 'teacher' });
    const session = s.createSession({ role: 'learner', learnerId: 'ada' });
    s.recordRun('ada', report('01', [check('a', 2)]));
    s.revokeLearner('bob');
    s.audit('teacher', 'revoked', 'bob');
    s.close();
    expect(existsSync(file)).toBe(true);

    const again = open();
    expect(again.schemaVersion()).toBe(SCHEMA_VERSION);
    expect(again.learners().map((l) => [l.id, l.seed, !!l.revokedAt])).toEqual([
      ['ada', 's1', false],
      ['bob', null, true],
    ]);
    expect(again.principalOfToken(token)).toEqual({ role: 'learner', learnerId: 'ada' });
    expect(again.principalOfToken(teacher)).toEqual({ role: 'teacher' });
    expect(again.principalOfSession(session)).toEqual({ role: 'learner', learnerId: 'ada' });
    expect(again.runs('ada', '01')).toHaveLength(1);
    expect(again.latestReports('01').get('ada')?.score).toBe(2);
    expect(again.auditLog()[0]).toMatchObject({ actor: 'teacher', action: 'revoked', detail: 'bob' });
  });
});

describe('store: where a learner world lives', () => {
  it('keeps the engine a learner was placed on, over a reopen, and none until placed', () => {
    const s = open();
    s.upsertLearner({ id: 'ada', name: 'Ada' });
    expect(s.learner('ada')?.engine).toBeNull();
    s.placeLearner('ada', 'unix:///run/e2.sock');
    s.close();
    expect(open().learner('ada')?.engine).toBe('unix:///run/e2.sock');
  });

  it('migrates a class file of the schema before placements, keeping its learners', () => {
    const s = open();
    s.upsertLearner({ id: 'old', name: 'Old' });
    s.close();
    // The file as the previous version left it: no engine column, schema version one lower.
    const raw = new Database(file);
    raw.exec('ALTER TABLE learners DROP COLUMN engine');
    raw.pragma(`user_version = ${SCHEMA_VERSION - 1}`);
    raw.close();
    const again = open();
    expect(again.schemaVersion()).toBe(SCHEMA_VERSION);
    expect(again.learner('old')).toMatchObject({ id: 'old', name: 'Old', engine: null });
    again.placeLearner('old', 'e1');
    expect(again.learner('old')?.engine).toBe('e1');
  });
});
