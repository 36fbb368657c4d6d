// Admission control: a world starts only when the engine has room for it (a memory and CPU
// budget, each world costing the same); otherwise its learner waits in line and is told where.
// Pure: every function takes the state and returns the next one with the decision.

export interface Budget {
  memoryMb: number;
  cpus: number;
}

export interface Cost {
  memoryMb: number;
  cpus: number;
}

export interface AdmissionState {
  /** Instances whose worlds hold room, with what they cost. */
  running: ReadonlyMap<string, Cost>;
  /** Instances waiting for room, first in line first. */
  queue: readonly string[];
}

export type Decision = { admitted: true } | { admitted: false; position: number; ahead: number };

export const EMPTY: AdmissionState = { running: new Map(), queue: [] };

/** A world of the full lab (seven nodes) at their limits; measured by hurrynet bench, rounded up. */
export const DEFAULT_WORLD_COST: Cost = { memoryMb: 700, cpus: 0.5 };

function used(state: AdmissionState): Cost {
  let memoryMb = 0;
  let cpus = 0;
  for (const c of state.running.values()) {
    memoryMb += c.memoryMb;
    cpus += c.cpus;
  }
  return { memoryMb, cpus };
}

export function fits(state: AdmissionState, budget: Budget, cost: Cost): boolean {
  const u = used(state);
  // A tiny epsilon: 0.1 + 0.2 must fit in 0.3.
  return u.memoryMb + cost.memoryMb <= budget.memoryMb + 1e-9 && u.cpus + cost.cpus <= budget.cpus + 1e-9;
}

/**
 * An instance asks to start a world. Already running: admitted (a reset or a lab change reuses its
 * room). Room, and nobody ahead in line: admitted. Otherwise it keeps (or takes) its place in line.
 */
export function request(
  state: AdmissionState,
  budget: Budget,
  instance: string,
  cost: Cost,
): { state: AdmissionState; decision: Decision } {
  if (state.running.has(instance)) return { state, decision: { admitted: true } };
  const queue = state.queue.includes(instance) ? state.queue : [...state.queue, instance];
  const index = queue.indexOf(instance);
  if (index === 0 && fits(state, budget, cost)) {
    const running = new Map(state.running).set(instance, cost);
    return { state: { running, queue: queue.slice(1) }, decision: { admitted: true } };
  }
  return { state: { running: state.running, queue }, decision: { admitted: false, position: index + 1, ahead: index } };
}

/** A world stopped (or its learner gave up waiting): its room, or its place in line, is free. */
export function release(state: AdmissionState, instance: string): AdmissionState {
  if (!state.running.has(instance) && !state.queue.includes(instance)) return state;
  const running = new Map(state.running);
  running.delete(instance);
  return { running, queue: state.queue.filter((q) => q !== instance) };
}

/** Where an instance is in line (1 is next), or undefined when it is not waiting. */
export function positionOf(state: AdmissionState, instance: string): number | undefined {
  const i = state.queue.indexOf(instance);
  return i < 0 ? undefined : i + 1;
}
