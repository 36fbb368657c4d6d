// The live terminals of a server, for watching one read-only (the class teacher watches a
// learner's). Each keeps its newest output in a byte-bounded ring, so that a watcher who joins
// late sees the screen's recent past; watchers get output, size changes and the end, never a way
// in. Pure: no sockets here (terminal.ts adapts a WebSocket to a Watcher).
import { randomBytes } from 'node:crypto';

/** How much recent output each terminal keeps for a watcher who joins (the server must stay small). */
export const REPLAY_BYTES = 64 * 1024;

/** The newest `limit` bytes pushed into it, oldest first. The buffer is allocated at the first push. */
export class ByteRing {
  private buf: Buffer | undefined;
  /** Where the next byte goes. */
  private end = 0;
  private length = 0;

  constructor(readonly limit: number = REPLAY_BYTES) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a ring holds at least 1 byte, not ${limit}`);
  }

  get size(): number {
    return this.length;
  }

  push(chunk: Buffer): void {
    if (!chunk.length) return;
    // Only the tail of a chunk larger than the ring can survive.
    const data = chunk.length > this.limit ? chunk.subarray(chunk.length - this.limit) : chunk;
    this.buf ??= Buffer.allocUnsafe(this.limit);
    const first = Math.min(data.length, this.limit - this.end);
    data.copy(this.buf, this.end, 0, first);
    data.copy(this.buf, 0, first);
    this.end = (this.end + data.length) % this.limit;
    this.length = Math.min(this.limit, this.length + data.length);
  }

  /** A copy of what it holds, oldest byte first. */
  snapshot(): Buffer {
    if (!this.buf || !this.length) return Buffer.alloc(0);
    const start = (this.end - this.length + this.limit) % this.limit;
    if (start < this.end) return Buffer.from(this.buf.subarray(start, this.end));
    return Buffer.concat([this.buf.subarray(start), this.buf.subarray(0, this.end)]);
  }
}

/** What is shown of a live terminal (the teacher's list, a watcher's first notice). */
export interface TerminalInfo {
  id: string;
  instance: string;
  node: string;
  openedAt: string;
  cols: number;
  rows: number;
  /** Opened by a session bound to its instance (a learner's own), not by the teacher helping there. */
  bound: boolean;
}

/** One who watches a terminal. Nothing it does reaches the shell: it only receives. */
export interface Watcher {
  output(chunk: Buffer): void;
  resize(cols: number, rows: number): void;
  /** The terminal ended: the watcher is dropped from it after this. */
  exit(code: number): void;
}

/** A terminal as its bridge reports to the registry. */
export interface LiveTerminal {
  readonly info: TerminalInfo;
  output(chunk: Buffer): void;
  resize(cols: number, rows: number): void;
  /** The shell ended (or its socket closed): watchers are told and dropped; idempotent. */
  end(code: number): void;
}

interface Entry {
  info: TerminalInfo;
  ring: ByteRing;
  watchers: Set<Watcher>;
}

/** How many may watch one terminal at once. */
export const MAX_WATCHERS = 4;

export class WatchError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class TerminalRegistry {
  private readonly live = new Map<string, Entry>();

  constructor(
    private readonly opts: {
      replayBytes?: number;
      /** A terminal opened or ended (the class server tells the teacher's page). */
      onChange?: (info: TerminalInfo) => void;
      now?: () => Date;
    } = {},
  ) {}

  add(t: { instance: string; node: string; cols: number; rows: number; bound?: boolean }): LiveTerminal {
    const info: TerminalInfo = {
      id: randomBytes(9).toString('base64url'),
      ...t,
      bound: t.bound ?? false,
      openedAt: (this.opts.now?.() ?? new Date()).toISOString(),
    };
    const entry: Entry = { info, ring: new ByteRing(this.opts.replayBytes), watchers: new Set() };
    this.live.set(info.id, entry);
    this.opts.onChange?.(info);
    let ended = false;
    return {
      info,
      output: (chunk) => {
        if (ended) return;
        entry.ring.push(chunk);
        for (const w of entry.watchers) w.output(chunk);
      },
      resize: (cols, rows) => {
        if (ended) return;
        info.cols = cols;
        info.rows = rows;
        for (const w of entry.watchers) w.resize(cols, rows);
      },
      end: (code) => {
        if (ended) return;
        ended = true;
        this.live.delete(info.id);
        for (const w of entry.watchers) w.exit(code);
        entry.watchers.clear();
        this.opts.onChange?.(info);
      },
    };
  }

  get(id: string): TerminalInfo | undefined {
    return this.live.get(id)?.info;
  }

  /** The live terminals (of one instance), oldest first. */
  list(instance?: string): TerminalInfo[] {
    return [...this.live.values()]
      .map((e) => e.info)
      .filter((i) => instance === undefined || i.instance === instance)
      .sort((a, b) => a.openedAt.localeCompare(b.openedAt));
  }

  /**
   * Adds a watcher: it gets the terminal's size and the replay now, then the live output. Returns
   * the function that removes it.
   */
  watch(id: string, w: Watcher): () => void {
    const entry = this.live.get(id);
    if (!entry) throw new WatchError(404, 'no such terminal (it may have ended)');
    if (entry.watchers.size >= MAX_WATCHERS)
      throw new WatchError(429, `at most ${MAX_WATCHERS} may watch one terminal at once`);
    entry.watchers.add(w);
    w.resize(entry.info.cols, entry.info.rows);
    const replay = entry.ring.snapshot();
    if (replay.length) w.output(replay);
    return () => entry.watchers.delete(w);
  }

  watchers(id: string): number {
    return this.live.get(id)?.watchers.size ?? 0;
  }
}
