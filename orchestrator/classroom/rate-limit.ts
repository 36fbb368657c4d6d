// Failed sign-in attempts, per client key (its address): after `max` failures within `windowMs`
// the key is refused until fewer than `max` are left in the window. Pure: state in, state out,
// the clock passed in, so that the tests need no timers.

export interface RateLimit {
  max: number;
  windowMs: number;
}

export const DEFAULT_RATE_LIMIT: RateLimit = { max: 10, windowMs: 60_000 };

/** Failure times per key. */
export type Failures = ReadonlyMap<string, readonly number[]>;

function recent(times: readonly number[] | undefined, now: number, limit: RateLimit): number[] {
  return (times ?? []).filter((t) => now - t < limit.windowMs);
}

/** Undefined when the key may try; else how many ms until it may. */
export function blockedFor(
  failures: Failures,
  key: string,
  now: number,
  limit = DEFAULT_RATE_LIMIT,
): number | undefined {
  const times = recent(failures.get(key), now, limit);
  if (times.length < limit.max) return undefined;
  // Allowed again once fewer than max failures are left: when the max-th newest one leaves (with
  // exactly max, that is the oldest; with more, the older ones leaving are not enough).
  return Math.max(1, (times[times.length - limit.max] as number) + limit.windowMs - now);
}

/** The failures after one more for `key` (and with every key's old failures forgotten). */
export function recordFailure(failures: Failures, key: string, now: number, limit = DEFAULT_RATE_LIMIT): Failures {
  const next = new Map<string, readonly number[]>();
  for (const [k, times] of failures) {
    const kept = recent(times, now, limit);
    if (kept.length) next.set(k, kept);
  }
  next.set(key, [...recent(failures.get(key), now, limit), now]);
  return next;
}

/** A small stateful wrapper for the server, over the pure functions. */
export function createLimiter(limit = DEFAULT_RATE_LIMIT, clock: () => number = Date.now) {
  let failures: Failures = new Map();
  return {
    blockedFor: (key: string) => blockedFor(failures, key, clock(), limit),
    fail: (key: string) => void (failures = recordFailure(failures, key, clock(), limit)),
  };
}
