// What the class server's teacher routes answer: shared by the server and the teacher's page.

/** What the teacher's table shows for one learner and lab. */
export interface TableRow {
  id: string;
  name: string;
  instance: string;
  /** The engine that holds the learner's world (a class on several engines; absent on one). */
  engine?: string;
  /** running (this lab or another), queued (with the position), or stopped. */
  world: { state: 'running' | 'queued' | 'stopped'; position?: number };
  score?: number;
  maxScore?: number;
  /** Check id to its status in the newest run (passed, failed, inconclusive, skipped). */
  checks: Record<string, string>;
  runs: number;
  /** How many terminals the learner has open now (the teacher may watch them). */
  terminals: number;
  lastRunAt?: string;
  /** When the learner last reached a higher score: who is stuck shows here. */
  lastProgressAt?: string;
}

export interface TableView {
  lab: { id: string; title: string };
  checks: { id: string; title: string; points: number }[];
  learners: TableRow[];
  generatedAt: string;
}

/** GET /teacher/api/class. */
export interface ClassView {
  name: string;
  labs: { id: string; title: string }[];
}

/** A server-sent event on /teacher/api/events: a check ran, or a world was queued or started. */
export type ClassEvent =
  | { type: 'report'; learner: string; lab: string; score: number; maxScore: number }
  | { type: 'world'; instance: string; state: string; position?: number }
  /** A learner's terminal opened or ended. */
  | { type: 'terminals'; instance: string };
