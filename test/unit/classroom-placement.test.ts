import { describe, expect, it } from 'vitest';
import { EMPTY, request, type AdmissionState, type Budget } from '../../orchestrator/classroom/admission.js';
import { loadOf, place, type Room } from '../../orchestrator/classroom/placement.js';

const cost = { memoryMb: 700, cpus: 0.5 };
const big: Budget = { memoryMb: 7000, cpus: 16 };
const small: Budget = { memoryMb: 1400, cpus: 16 };

function withWorlds(budget: Budget, n: number, queued = 0): AdmissionState {
  let s = EMPTY;
  for (let i = 0; i < n; i++) s = request(s, budget, `w${i}`, cost).state;
  return { ...s, queue: [...s.queue, ...Array.from({ length: queued }, (_, i) => `q${i}`)] };
}

const room = (engine: string, budget: Budget, n = 0, queued = 0): Room => ({
  engine,
  budget,
  state: withWorlds(budget, n, queued),
});

describe('placement', () => {
  it('fills the engines in the order given while they are equally loaded', () => {
    expect(place([room('e1', big), room('e2', big)], cost)).toBe('e1');
    expect(place([room('e1', big, 1), room('e2', big)], cost)).toBe('e2');
    expect(place([room('e1', big, 1), room('e2', big, 1)], cost)).toBe('e1');
  });

  it('weighs an engine by the share of its own budget, waiting worlds included', () => {
    // Two worlds fill the small engine; one is a tenth of the big one.
    expect(loadOf(room('s', small, 1), cost)).toBeCloseTo(0.5);
    expect(place([room('s', small, 1), room('b', big, 2)], cost)).toBe('b');
    expect(place([room('e1', big, 1, 3), room('e2', big, 2)], cost)).toBe('e2');
  });

  it('keeps a placed world where it is, even when another engine is emptier', () => {
    expect(place([room('e1', big, 5), room('e2', big)], cost, 'e1')).toBe('e1');
  });

  it('places again a world whose engine is no longer in the list', () => {
    expect(place([room('e1', big, 1), room('e2', big)], cost, 'gone')).toBe('e2');
  });

  it('counts an engine without a budget as full', () => {
    expect(loadOf(room('z', { memoryMb: 0, cpus: 0 }), cost)).toBe(Infinity);
    expect(place([room('z', { memoryMb: 0, cpus: 0 }), room('e2', big, 3)], cost)).toBe('e2');
    expect(() => place([], cost)).toThrow(/at least one engine/);
  });
});
