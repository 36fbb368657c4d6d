import { describe, expect, it } from 'vitest';
import {
  blockedFor,
  createLimiter,
  DEFAULT_RATE_LIMIT,
  recordFailure,
  type Failures,
  type RateLimit,
} from '../../orchestrator/classroom/rate-limit.js';

const limit: RateLimit = { max: 3, windowMs: 1000 };

function failAt(times: number[], key = 'k', start: Failures = new Map()): Failures {
  return times.reduce((f, t) => recordFailure(f, key, t, limit), start);
}

describe('rate limit (pure)', () => {
  it('defaults to 10 failures a minute', () => {
    expect(DEFAULT_RATE_LIMIT).toEqual({ max: 10, windowMs: 60_000 });
  });

  it('lets a key try until it has max failures within the window', () => {
    expect(blockedFor(new Map(), 'k', 0, limit)).toBeUndefined();
    expect(blockedFor(failAt([0, 100]), 'k', 200, limit)).toBeUndefined();
    expect(blockedFor(failAt([0, 100, 200]), 'k', 200, limit)).toBe(800);
    expect(blockedFor(failAt([0, 100, 200]), 'k', 999, limit)).toBe(1);
  });

  it('unblocks when the oldest failure leaves the window', () => {
    const f = failAt([0, 100, 200]);
    expect(blockedFor(f, 'k', 1000, limit)).toBeUndefined();
    expect(blockedFor(f, 'k', 5000, limit)).toBeUndefined();
  });

  it('does not count failures spread over more than the window', () => {
    const f = failAt([0, 600, 1200, 1800]);
    // At 1800, only 1200 and 1800 are within the window (0 and 600 are 1800 and 1200 ms old).
    expect(blockedFor(f, 'k', 1800, limit)).toBeUndefined();
  });

  it('counts keys separately', () => {
    const f = failAt([0, 1, 2], 'a');
    expect(blockedFor(f, 'a', 3, limit)).toBeGreaterThan(0);
    expect(blockedFor(f, 'b', 3, limit)).toBeUndefined();
  });

  it('forgets old failures of every key, and keeps its input unchanged', () => {
    const before = failAt([0, 1], 'old');
    const after = recordFailure(before, 'new', 5000, limit);
    expect([...after.keys()]).toEqual(['new']);
    expect(after.get('new')).toEqual([5000]);
    expect(before.get('old')).toEqual([0, 1]);
    expect(failAt([0, 500, 1200]).get('k')).toEqual([500, 1200]);
  });

  it('says how long a key stays blocked even when it failed more than max times', () => {
    // Four failures: after the oldest leaves at 1000, three remain until 1100.
    const f = failAt([0, 100, 200, 300]);
    const wait = blockedFor(f, 'k', 300, limit) as number;
    expect(wait).toBe(800);
    expect(blockedFor(f, 'k', 300 + wait - 1, limit)).toBeDefined();
    expect(blockedFor(f, 'k', 300 + wait, limit)).toBeUndefined();
  });
});

describe('rate limiter (with a clock)', () => {
  it('blocks after max failures within the window and unblocks after it', () => {
    let now = 10_000;
    const l = createLimiter(limit, () => now);
    for (let i = 0; i < 3; i++) {
      expect(l.blockedFor('1.2.3.4')).toBeUndefined();
      l.fail('1.2.3.4');
      now += 100;
    }
    expect(l.blockedFor('1.2.3.4')).toBe(700);
    expect(l.blockedFor('5.6.7.8')).toBeUndefined();
    now += 699;
    expect(l.blockedFor('1.2.3.4')).toBe(1);
    now += 1;
    expect(l.blockedFor('1.2.3.4')).toBeUndefined();
    // One more failure: the two within the window plus this one block again.
    l.fail('1.2.3.4');
    expect(l.blockedFor('1.2.3.4')).toBeDefined();
    now += 1000;
    expect(l.blockedFor('1.2.3.4')).toBeUndefined();
  });

  it('uses the default limit and the real clock when given none', () => {
    const l = createLimiter();
    for (let i = 0; i < 9; i++) l.fail('x');
    expect(l.blockedFor('x')).toBeUndefined();
    l.fail('x');
    const wait = l.blockedFor('x') as number;
    expect(wait).toBeGreaterThan(59_000);
    expect(wait).toBeLessThanOrEqual(60_000);
  });
});
