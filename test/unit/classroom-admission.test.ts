import { describe, expect, it } from 'vitest';
import {
  DEFAULT_WORLD_COST,
  EMPTY,
  fits,
  positionOf,
  release,
  request,
  type AdmissionState,
  type Budget,
  type Cost,
} from '../../orchestrator/classroom/admission.js';

const world: Cost = { memoryMb: 700, cpus: 0.5 };
const two: Budget = { memoryMb: 1400, cpus: 4 };

function admit(state: AdmissionState, budget: Budget, ...names: string[]): AdmissionState {
  for (const n of names) state = request(state, budget, n, world).state;
  return state;
}

describe('admission: budgets', () => {
  it('fits a world while memory and CPUs both last', () => {
    expect(fits(EMPTY, two, world)).toBe(true);
    expect(fits(admit(EMPTY, two, 'a'), two, world)).toBe(true);
    expect(fits(admit(EMPTY, two, 'a', 'b'), two, world)).toBe(false);
    // CPUs run out first.
    expect(fits(EMPTY, { memoryMb: 10_000, cpus: 0.4 }, world)).toBe(false);
    // Memory runs out first.
    expect(fits(EMPTY, { memoryMb: 699, cpus: 8 }, world)).toBe(false);
    expect(fits(EMPTY, { memoryMb: 0, cpus: 0 }, { memoryMb: 0, cpus: 0 })).toBe(true);
  });

  it('does not lose a world to floating point', () => {
    const state = request(EMPTY, { memoryMb: 100, cpus: 0.3 }, 'a', { memoryMb: 1, cpus: 0.1 }).state;
    expect(fits(state, { memoryMb: 100, cpus: 0.3 }, { memoryMb: 1, cpus: 0.2 })).toBe(true);
    expect(fits(state, { memoryMb: 100, cpus: 0.3 }, { memoryMb: 1, cpus: 0.21 })).toBe(false);
  });

  it('has a default world cost', () => {
    expect(DEFAULT_WORLD_COST.memoryMb).toBeGreaterThan(0);
    expect(DEFAULT_WORLD_COST.cpus).toBeGreaterThan(0);
  });
});

describe('admission: requests and the queue', () => {
  it('admits while there is room, then queues with position and how many are ahead', () => {
    let s: AdmissionState = EMPTY;
    const r1 = request(s, two, 'a', world);
    expect(r1.decision).toEqual({ admitted: true });
    s = r1.state;
    s = request(s, two, 'b', world).state;
    const r3 = request(s, two, 'c', world);
    expect(r3.decision).toEqual({ admitted: false, position: 1, ahead: 0 });
    const r4 = request(r3.state, two, 'd', world);
    expect(r4.decision).toEqual({ admitted: false, position: 2, ahead: 1 });
    expect([...r4.state.running.keys()]).toEqual(['a', 'b']);
    expect(r4.state.queue).toEqual(['c', 'd']);
    expect(positionOf(r4.state, 'c')).toBe(1);
    expect(positionOf(r4.state, 'd')).toBe(2);
    expect(positionOf(r4.state, 'a')).toBeUndefined();
    expect(positionOf(r4.state, 'nobody')).toBeUndefined();
  });

  it('leaves its input states unchanged (EMPTY too)', () => {
    const r = request(EMPTY, two, 'a', world);
    expect(EMPTY.running.size).toBe(0);
    expect(EMPTY.queue).toEqual([]);
    const q = request(admit(EMPTY, two, 'a', 'b'), two, 'c', world);
    const before = q.state;
    release(before, 'a');
    request(before, two, 'd', world);
    expect([...before.running.keys()]).toEqual(['a', 'b']);
    expect(before.queue).toEqual(['c']);
    expect(r.state.running.get('a')).toEqual(world);
  });

  it('re-requesting a running instance admits it again without taking more room', () => {
    const s = admit(EMPTY, two, 'a', 'b');
    const r = request(s, two, 'a', world);
    expect(r.decision).toEqual({ admitted: true });
    expect(r.state).toBe(s);
    expect(r.state.running.size).toBe(2);
  });

  it('re-requesting a queued instance keeps its place in line', () => {
    let s = admit(EMPTY, two, 'a', 'b', 'c', 'd', 'e');
    const again = request(s, two, 'd', world);
    expect(again.decision).toEqual({ admitted: false, position: 2, ahead: 1 });
    expect(again.state.queue).toEqual(['c', 'd', 'e']);
    s = again.state;
    expect(request(s, two, 'd', world).state.queue).toEqual(['c', 'd', 'e']);
  });

  it('release frees room; the head of the line gets it, in FIFO order', () => {
    let s = admit(EMPTY, two, 'a', 'b', 'c', 'd');
    expect(s.queue).toEqual(['c', 'd']);
    s = release(s, 'a');
    expect([...s.running.keys()]).toEqual(['b']);
    // d may not jump the line even though there is room now.
    const jump = request(s, two, 'd', world);
    expect(jump.decision).toEqual({ admitted: false, position: 2, ahead: 1 });
    // A newcomer neither.
    expect(request(s, two, 'z', world).decision).toEqual({ admitted: false, position: 3, ahead: 2 });
    const head = request(s, two, 'c', world);
    expect(head.decision).toEqual({ admitted: true });
    s = head.state;
    expect(s.queue).toEqual(['d']);
    expect(positionOf(s, 'd')).toBe(1);
    expect(request(s, two, 'd', world).decision).toEqual({ admitted: false, position: 1, ahead: 0 });
    s = release(s, 'b');
    expect(request(s, two, 'd', world).decision).toEqual({ admitted: true });
  });

  it('release of a waiting instance gives up its place; of an unknown one changes nothing', () => {
    let s = admit(EMPTY, two, 'a', 'b', 'c', 'd', 'e');
    s = release(s, 'd');
    expect(s.queue).toEqual(['c', 'e']);
    expect(positionOf(s, 'e')).toBe(2);
    expect(release(s, 'nobody')).toBe(s);
    s = release(s, 'c');
    expect(positionOf(s, 'e')).toBe(1);
    expect(s.running.size).toBe(2);
  });

  it('admits worlds of different costs against the sum of what runs', () => {
    const budget: Budget = { memoryMb: 1000, cpus: 2 };
    let s = request(EMPTY, budget, 'big', { memoryMb: 800, cpus: 1 }).state;
    const small = request(s, budget, 'small', { memoryMb: 300, cpus: 0.5 });
    expect(small.decision.admitted).toBe(false);
    s = release(small.state, 'big');
    expect(request(s, budget, 'small', { memoryMb: 300, cpus: 0.5 }).decision).toEqual({ admitted: true });
  });
});
