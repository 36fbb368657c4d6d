// The class's state in one SQLite file in --data: learners, link tokens and sessions (hashes only),
// every check run with its results, and the audit log. A restarted server finds all of it. The
// schema has a version (PRAGMA user_version) and a list of migrations, applied in order at open.
import Database from 'better-sqlite3';
import type { CheckStatus, Report } from '../../checks/types.js';
import { hashToken, newToken } from './tokens.js';

export type Role = 'teacher' | 'learner';

export interface LearnerRow {
  id: string;
  name: string;
  seed: string | null;
  createdAt: string;
  revokedAt: string | null;
  /** The engine that holds (or last held) the learner's world; null until placed. */
  engine: string | null;
}

export interface Principal {
  role: Role;
  /** Set for a learner; the teacher has none. */
  learnerId?: string;
}

export interface RunRow {
  id: number;
  learnerId: string;
  lab: string;
  score: number;
  maxScore: number;
  passed: boolean;
  at: string;
}

export interface CheckRow {
  runId: number;
  learnerId: string;
  lab: string;
  checkId: string;
  status: CheckStatus;
  points: number;
  earned: number;
  at: string;
}

export interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  detail: string;
}

/** Migration N takes the schema from version N to N+1. Never edit one that shipped: add another. */
const MIGRATIONS: string[] = [
  `CREATE TABLE learners (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, seed TEXT, created_at TEXT NOT NULL, revoked_at TEXT);
   CREATE TABLE tokens (
     hash TEXT PRIMARY KEY, role TEXT NOT NULL CHECK (role IN ('teacher', 'learner')),
     learner_id TEXT REFERENCES learners(id), created_at TEXT NOT NULL, revoked_at TEXT,
     CHECK ((role = 'learner') = (learner_id IS NOT NULL)));
   CREATE TABLE sessions (
     hash TEXT PRIMARY KEY, role TEXT NOT NULL CHECK (role IN ('teacher', 'learner')),
     learner_id TEXT REFERENCES learners(id), created_at TEXT NOT NULL, expires_at TEXT NOT NULL,
     CHECK ((role = 'learner') = (learner_id IS NOT NULL)));
   CREATE TABLE check_runs (
     id INTEGER PRIMARY KEY AUTOINCREMENT, learner_id TEXT NOT NULL REFERENCES learners(id),
     lab TEXT NOT NULL, score REAL NOT NULL, max_score REAL NOT NULL, passed INTEGER NOT NULL,
     at TEXT NOT NULL, report TEXT NOT NULL);
   CREATE INDEX check_runs_by_lab ON check_runs (lab, learner_id, id);
   CREATE TABLE check_results (
     run_id INTEGER NOT NULL REFERENCES check_runs(id), learner_id TEXT NOT NULL, lab TEXT NOT NULL,
     check_id TEXT NOT NULL, status TEXT NOT NULL, points REAL NOT NULL, earned REAL NOT NULL,
     at TEXT NOT NULL);
   CREATE INDEX check_results_by_learner ON check_results (learner_id, lab, check_id);
   CREATE TABLE audit (
     id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL,
     action TEXT NOT NULL, detail TEXT NOT NULL);`,
  // The engine a learner's world was placed on (a class on several engines): sticky once placed.
  `ALTER TABLE learners ADD COLUMN engine TEXT;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export const SESSION_TTL_MS = 12 * 3600_000;

export class Store {
  private readonly db: Database.Database;

  constructor(
    file: string,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
  }

  private now(): string {
    return this.clock().toISOString();
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION)
      throw new Error(
        `the class data was written by a newer hurrynet (schema ${version}, this one knows ${SCHEMA_VERSION}): upgrade hurrynet`,
      );
    for (let v = version; v < SCHEMA_VERSION; v++)
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v] as string);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
  }

  schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  close(): void {
    this.db.close();
  }

  // ---- learners -------------------------------------------------------------------------------

  /** Adds a learner, or updates the name and seed of one already there (and un-revokes it). */
  upsertLearner(l: { id: string; name: string; seed?: string }): void {
    this.db
      .prepare(
        `INSERT INTO learners (id, name, seed, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, seed = excluded.seed, revoked_at = NULL`,
      )
      .run(l.id, l.name, l.seed ?? null, this.now());
  }

  learners(): LearnerRow[] {
    return (this.db.prepare(`SELECT ${LEARNER_COLUMNS} FROM learners ORDER BY id`).all() as RawLearner[]).map(
      learnerRow,
    );
  }

  /** One learner (the class server asks on every request: one row, not the whole class). */
  learner(id: string): LearnerRow | undefined {
    const r = this.db.prepare(`SELECT ${LEARNER_COLUMNS} FROM learners WHERE id = ?`).get(id) as RawLearner | undefined;
    return r && learnerRow(r);
  }

  /** Where the learner's world lives from now on (the class server places it once). */
  placeLearner(id: string, engine: string): void {
    this.db.prepare(`UPDATE learners SET engine = ? WHERE id = ?`).run(engine, id);
  }

  /** Revokes a learner: their links and sessions stop working at once; their history stays. */
  revokeLearner(id: string): boolean {
    const now = this.now();
    return this.db.transaction(() => {
      const r = this.db.prepare(`UPDATE learners SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`).run(now, id);
      this.db.prepare(`UPDATE tokens SET revoked_at = ? WHERE learner_id = ? AND revoked_at IS NULL`).run(now, id);
      this.db.prepare(`DELETE FROM sessions WHERE learner_id = ?`).run(id);
      return r.changes > 0;
    })();
  }

  // ---- tokens and sessions --------------------------------------------------------------------

  /** A new link token for the teacher or a learner; the store keeps its hash, the caller the token. */
  issueToken(p: Principal, opts: { revokeOthers?: boolean } = {}): string {
    const token = newToken();
    const now = this.now();
    this.db.transaction(() => {
      if (opts.revokeOthers)
        this.db
          .prepare(`UPDATE tokens SET revoked_at = ? WHERE role = ? AND learner_id IS ? AND revoked_at IS NULL`)
          .run(now, p.role, p.learnerId ?? null);
      this.db
        .prepare(`INSERT INTO tokens (hash, role, learner_id, created_at) VALUES (?, ?, ?, ?)`)
        .run(hashToken(token), p.role, p.learnerId ?? null, now);
    })();
    return token;
  }

  /** Whether a learner has a link that still works. */
  hasActiveToken(learnerId: string): boolean {
    return !!this.db.prepare(`SELECT 1 FROM tokens WHERE learner_id = ? AND revoked_at IS NULL LIMIT 1`).get(learnerId);
  }

  /** Who a link token belongs to; undefined when unknown, revoked, or its learner is. */
  principalOfToken(token: string): Principal | undefined {
    const row = this.db
      .prepare(
        `SELECT t.role, t.learner_id FROM tokens t LEFT JOIN learners l ON l.id = t.learner_id
         WHERE t.hash = ? AND t.revoked_at IS NULL AND l.revoked_at IS NULL`,
      )
      .get(hashToken(token)) as { role: Role; learner_id: string | null } | undefined;
    return row && principal(row);
  }

  /** A session for whoever presented a valid link; returns its secret (the cookie's value). */
  createSession(p: Principal, ttlMs = SESSION_TTL_MS): string {
    const secret = newToken();
    const now = this.clock();
    this.db
      .prepare(`INSERT INTO sessions (hash, role, learner_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`)
      .run(hashToken(secret), p.role, p.learnerId ?? null, now.toISOString(), new Date(+now + ttlMs).toISOString());
    return secret;
  }

  principalOfSession(secret: string): Principal | undefined {
    const row = this.db
      .prepare(
        `SELECT s.role, s.learner_id FROM sessions s LEFT JOIN learners l ON l.id = s.learner_id
         WHERE s.hash = ? AND s.expires_at > ? AND l.revoked_at IS NULL`,
      )
      .get(hashToken(secret), this.now()) as { role: Role; learner_id: string | null } | undefined;
    return row && principal(row);
  }

  deleteExpiredSessions(): number {
    return this.db.prepare(`DELETE FROM sessions WHERE expires_at <= ?`).run(this.now()).changes;
  }

  // ---- check history --------------------------------------------------------------------------

  /** Keeps one check run: its summary, each check's result, and the whole report for exports. */
  recordRun(learnerId: string, report: Report): number {
    const at = report.startedAt || this.now();
    return this.db.transaction(() => {
      const id = Number(
        this.db
          .prepare(
            `INSERT INTO check_runs (learner_id, lab, score, max_score, passed, at, report) VALUES (?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(learnerId, report.lab, report.score, report.maxScore, report.passed ? 1 : 0, at, JSON.stringify(report))
          .lastInsertRowid,
      );
      const insert = this.db.prepare(
        `INSERT INTO check_results (run_id, learner_id, lab, check_id, status, points, earned, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const r of report.results) insert.run(id, learnerId, report.lab, r.id, r.status, r.points, r.earned, at);
      return id;
    })();
  }

  /** A learner's runs of a lab, oldest first. */
  runs(learnerId: string, lab: string): RunRow[] {
    return (
      this.db
        .prepare(
          `SELECT id, learner_id, lab, score, max_score, passed, at FROM check_runs WHERE learner_id = ? AND lab = ? ORDER BY id`,
        )
        .all(learnerId, lab) as RawRun[]
    ).map(runRow);
  }

  /** Each check's results for a learner and lab, oldest first. */
  checkHistory(learnerId: string, lab: string): CheckRow[] {
    return (
      this.db
        .prepare(
          `SELECT run_id, learner_id, lab, check_id, status, points, earned, at FROM check_results
           WHERE learner_id = ? AND lab = ? ORDER BY run_id, rowid`,
        )
        .all(learnerId, lab) as RawCheck[]
    ).map((r) => ({
      runId: r.run_id,
      learnerId: r.learner_id,
      lab: r.lab,
      checkId: r.check_id,
      status: r.status,
      points: r.points,
      earned: r.earned,
      at: r.at,
    }));
  }

  /** The newest report of each learner for a lab. */
  latestReports(lab: string): Map<string, Report> {
    const rows = this.db
      .prepare(
        `SELECT learner_id, report FROM check_runs WHERE id IN (SELECT MAX(id) FROM check_runs WHERE lab = ? GROUP BY learner_id)`,
      )
      .all(lab) as { learner_id: string; report: string }[];
    return new Map(rows.map((r) => [r.learner_id, JSON.parse(r.report) as Report]));
  }

  // ---- audit ----------------------------------------------------------------------------------

  audit(actor: string, action: string, detail = ''): void {
    this.db
      .prepare(`INSERT INTO audit (at, actor, action, detail) VALUES (?, ?, ?, ?)`)
      .run(this.now(), actor, action, detail);
  }

  /** The newest entries first. */
  auditLog(limit = 200): AuditRow[] {
    return this.db
      .prepare(`SELECT id, at, actor, action, detail FROM audit ORDER BY id DESC LIMIT ?`)
      .all(limit) as AuditRow[];
  }
}

type RawRun = {
  id: number;
  learner_id: string;
  lab: string;
  score: number;
  max_score: number;
  passed: number;
  at: string;
};
type RawCheck = {
  run_id: number;
  learner_id: string;
  lab: string;
  check_id: string;
  status: CheckStatus;
  points: number;
  earned: number;
  at: string;
};

const LEARNER_COLUMNS = 'id, name, seed, created_at, revoked_at, engine';
type RawLearner = {
  id: string;
  name: string;
  seed: string | null;
  created_at: string;
  revoked_at: string | null;
  engine: string | null;
};
const learnerRow = (r: RawLearner): LearnerRow => ({
  id: r.id,
  name: r.name,
  seed: r.seed,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
  engine: r.engine,
});

function runRow(r: RawRun): RunRow {
  return {
    id: r.id,
    learnerId: r.learner_id,
    lab: r.lab,
    score: r.score,
    maxScore: r.max_score,
    passed: r.passed === 1,
    at: r.at,
  };
}

function principal(row: { role: Role; learner_id: string | null }): Principal {
  return row.role === 'learner' && row.learner_id ? { role: 'learner', learnerId: row.learner_id } : { role: row.role };
}
