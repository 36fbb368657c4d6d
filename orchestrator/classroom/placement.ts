// Which engine holds a learner's world, for a class on several Docker engines. Each engine has its
// own room (an admission state and budget, admission.ts); a learner is placed once, on the engine
// whose worlds and line take the smallest share of its budget, and stays there: their world, its
// terminals, checks and journeys all go to that engine. Pure.
import { type AdmissionState, type Budget, type Cost } from './admission.js';

export interface Room {
  engine: string;
  budget: Budget;
  state: AdmissionState;
}

/** The share of an engine's budget its running and waiting worlds take (the larger of memory and CPU). */
export function loadOf(room: Room, cost: Cost): number {
  const worlds = room.state.running.size + room.state.queue.length;
  const share = (used: number, budget: number) => (budget > 0 ? used / budget : Infinity);
  return Math.max(share(worlds * cost.memoryMb, room.budget.memoryMb), share(worlds * cost.cpus, room.budget.cpus));
}

/**
 * Where a world goes: where it was placed, if that engine is still in the list; else the least
 * loaded engine (the first of equals, so a quiet class fills the engines in the teacher's order).
 */
export function place(rooms: readonly Room[], cost: Cost, placed?: string): string {
  if (placed && rooms.some((r) => r.engine === placed)) return placed;
  let best = rooms[0];
  if (!best) throw new Error('a class needs at least one engine');
  for (const r of rooms) if (loadOf(r, cost) < loadOf(best, cost) - 1e-9) best = r;
  return best.engine;
}
