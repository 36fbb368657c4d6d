// Worlds a batch has finished with are removed behind its back: a worker starts its next world at
// once instead of waiting a second or more for Docker to tear the last one down. Removals run one
// at a time so they take little CPU from the worlds still being graded, and the batch waits for
// the queue (and retries what failed) before it ends, so nothing is left behind.

/** Removes one instance; removing what is already gone succeeds (as the engine's stop does). */
export type Remove = (instance: string) => Promise<unknown>;

export class RemovalQueue {
  private tail: Promise<void> = Promise.resolve();
  private waiting = 0;
  private readonly failed = new Set<string>();
  private readonly roomWaiters: (() => void)[] = [];

  /** At most `limit` worlds wait for removal; a worker asks for room before it starts another. */
  constructor(
    private readonly remove: Remove,
    private readonly limit = 4,
  ) {}

  /** Worlds queued and not yet removed. */
  get pending(): number {
    return this.waiting;
  }

  /** Queues an instance for removal and returns at once. */
  add(instance: string): void {
    this.waiting++;
    this.tail = this.tail
      .then(() => this.remove(instance))
      .then(
        () => undefined,
        () => void this.failed.add(instance), // tried again by drain()
      )
      .finally(() => {
        this.waiting--;
        this.roomWaiters.shift()?.();
      });
  }

  /** Resolves when fewer than `limit` worlds wait, so a slow engine slows the batch instead of piling up worlds. */
  async room(): Promise<void> {
    while (this.waiting >= this.limit) await new Promise<void>((r) => this.roomWaiters.push(r));
  }

  /** Waits for every queued removal, then tries once more each that failed; returns those that still fail. */
  async drain(): Promise<{ instance: string; error: string }[]> {
    await this.tail;
    const again = [...this.failed];
    this.failed.clear();
    const left: { instance: string; error: string }[] = [];
    for (const instance of again) {
      await this.remove(instance).catch((err: Error) => left.push({ instance, error: err.message }));
    }
    return left;
  }
}
