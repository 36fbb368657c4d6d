// The class's roster on disk: class.yaml's learners go into the store, and each learner without a
// working link gets one, written to learners.csv (mode 0600) for the teacher to hand out. Tokens
// are stored hashed, so a link can only be printed when it is made: the CSV keeps every row it
// ever had, and a learner's new link (after a revoke) is a new row.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { ClassSpec } from './class-file.js';
import type { Store } from './store.js';

export interface IssuedLink {
  learnerId: string;
  name: string;
  url: string;
}

/** A learner's link: the server's public address with the token (exchanged for a cookie on first use). */
export function linkOf(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/?token=${token}`;
}

/** Adds class.yaml's learners to the store and issues a link to each who has none. */
export function syncRoster(store: Store, spec: ClassSpec, publicUrl: string): IssuedLink[] {
  const issued: IssuedLink[] = [];
  for (const l of spec.learners) {
    const known = store.learner(l.id);
    // A revoked learner stays revoked until the teacher adds them again (--add-learner).
    if (known?.revokedAt) continue;
    store.upsertLearner(l);
    if (!store.hasActiveToken(l.id)) {
      const token = store.issueToken({ role: 'learner', learnerId: l.id });
      issued.push({ learnerId: l.id, name: l.name, url: linkOf(publicUrl, token) });
    }
  }
  return issued;
}

/** A fresh teacher link; the previous one stops working (it was printed only to the last start). */
export function teacherLink(store: Store, publicUrl: string): string {
  return linkOf(publicUrl, store.issueToken({ role: 'teacher' }, { revokeOthers: true }));
}

const csvCell = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** Appends the links to learners.csv (creating it with a header), readable by its owner only. */
export function appendLinks(file: string, links: IssuedLink[], now: Date): void {
  const head = existsSync(file) ? readFileSync(file, 'utf8') : 'learner,name,link,issued_at\n';
  const rows = links.map((l) => [l.learnerId, l.name, l.url, now.toISOString()].map(csvCell).join(',') + '\n');
  writeFileSync(file, head + rows.join(''), { mode: 0o600 });
  // writeFileSync keeps an existing file's mode: make sure an old, looser file is tightened.
  chmodSync(file, 0o600);
}
