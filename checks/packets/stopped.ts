// Where traffic stopped, in words for a check's evidence: every packet of a journey that arrived
// at a router and never left (with the router's reason) or left a node and reached nobody.
import { describe as describePacket } from './decode.js';
import type { Diagnosis } from './diagnose.js';
import type { Journey } from './match.js';

export function stoppedLines(journey: Journey, diagnoses: Map<number, Diagnosis>): string[] {
  const lines: string[] = [];
  for (const t of journey.trips) {
    const first = t.sightings[0];
    const last = t.sightings[t.sightings.length - 1];
    if (!first || !last) continue;
    const what = describePacket(first.packet);
    const from = `from ${first.node}${t.hops.length ? ` via ${t.hops.map((h) => h.node).join(', ')}` : ''}`;
    if (t.fate.kind === 'died') {
      const d = diagnoses.get(t.id);
      lines.push(
        `${what} (${from}) reached ${t.fate.node} on ${t.fate.iface} and never left: ${d?.summary ?? 'no reason found'}`,
      );
    } else if (t.fate.kind === 'unclaimed') {
      lines.push(`${what} (${from}) left ${t.fate.node} on ${t.fate.iface} and no node took it`);
    }
  }
  return lines;
}
