// The class teacher's page: who passed which check of a lab, live (server-sent events on every
// check run), who has not made progress for a while, a learner's world reset or opened to help
// (both asked first, both in the audit log), and grade exports in the grader's formats.
import { $, h } from './dom.js';
import { getJson, postJson } from './http.js';
import type { ClassView, TableRow, TableView } from '../../classroom/protocol.js';

/** A learner whose best score has not gone up for this long is shown as stuck. */
const STUCK_MS = 15 * 60_000;
const MARK: Record<string, string> = { passed: '✓', failed: '✗', inconclusive: '?', skipped: '–' };

let lab = '';

function banner(text: string): void {
  const b = $('#banner');
  b.textContent = text;
  b.hidden = !text;
}

const ago = (iso: string | undefined) => {
  if (!iso) return '';
  const min = Math.round((Date.now() - Date.parse(iso)) / 60_000);
  return min < 1 ? 'just now' : `${min} min ago`;
};

function row(view: TableView, l: TableRow): HTMLTableRowElement {
  const world =
    l.world.state === 'queued'
      ? `queued (#${String(l.world.position)})`
      : l.world.state === 'running'
        ? 'running'
        : 'stopped';
  const stuck = !!l.lastProgressAt && Date.now() - Date.parse(l.lastProgressAt) > STUCK_MS && l.score !== l.maxScore;
  const reset = h('button', { type: 'button', 'data-learner': l.id }, 'Reset');
  reset.addEventListener('click', () => void resetLearner(l));
  const help = h('button', { type: 'button' }, 'Open');
  help.addEventListener('click', () => void helpLearner(l));
  const tr = h(
    'tr',
    { 'data-learner': l.id, class: stuck ? 'stuck' : '' },
    h('td', {}, h('b', {}, l.name), ' ', h('span', { class: 'muted' }, l.id)),
    h(
      'td',
      l.engine ? { 'data-engine': l.engine } : {},
      world,
      l.engine ? h('span', { class: 'muted' }, ` on ${l.engine}`) : '',
    ),
    h('td', { class: 'score' }, l.score === undefined ? '' : `${l.score}/${String(l.maxScore)}`),
    ...view.checks.map((c) => {
      const status = l.checks[c.id];
      return h(
        'td',
        { class: status ?? '', 'data-check': c.id, title: `${c.title}: ${status ?? 'not run'}` },
        status ? (MARK[status] ?? status) : '',
      );
    }),
    h('td', {}, String(l.runs)),
    h('td', {}, ago(l.lastRunAt)),
    h('td', { class: 'progress' }, stuck ? `stuck: ${ago(l.lastProgressAt)}` : ago(l.lastProgressAt)),
    h('td', {}, reset, ' ', help),
  );
  return tr;
}

async function loadTable(): Promise<void> {
  try {
    const view = await getJson<TableView>(`/teacher/api/table?lab=${encodeURIComponent(lab)}`);
    $('#table thead').replaceChildren(
      h(
        'tr',
        {},
        h('th', {}, 'learner'),
        h('th', {}, 'world'),
        h('th', {}, 'score'),
        ...view.checks.map((c) => h('th', { class: 'check', title: c.title }, c.id)),
        h('th', {}, 'runs'),
        h('th', {}, 'last check'),
        h('th', {}, 'last progress'),
        h('th', {}, ''),
      ),
    );
    $('#table tbody').replaceChildren(...view.learners.map((l) => row(view, l)));
    $('#updated').textContent =
      `lab ${view.lab.id} ${view.lab.title}; updated ${new Date(view.generatedAt).toLocaleTimeString()}`;
    banner('');
  } catch (err) {
    banner(`the table could not be loaded: ${(err as Error).message}`);
  }
}

async function loadAudit(): Promise<void> {
  const rows = await getJson<{ at: string; actor: string; action: string; detail: string }[]>('/teacher/api/audit');
  $('#audit').replaceChildren(
    ...rows.map((r) =>
      h('li', {}, `${new Date(r.at).toLocaleString()} · ${r.actor} · ${r.action}${r.detail ? `: ${r.detail}` : ''}`),
    ),
  );
}

async function resetLearner(l: TableRow): Promise<void> {
  if (!window.confirm(`Start ${l.name}'s lab over? Whatever they changed in their world is lost.`)) return;
  banner(`resetting ${l.name}'s world…`);
  try {
    await postJson('/teacher/api/reset', { learner: l.id });
    banner('');
  } catch (err) {
    banner(`the reset did not work: ${(err as Error).message}`);
  }
  await Promise.all([loadTable(), loadAudit()]);
}

async function helpLearner(l: TableRow): Promise<void> {
  if (
    !window.confirm(
      `Open ${l.name}'s world? What you type in its terminals runs in their lab, and the audit log says you were there.`,
    )
  )
    return;
  const r = await postJson<{ instance: string }>('/teacher/api/help', { learner: l.id });
  window.open(`/?instance=${encodeURIComponent(r.instance)}`, '_blank', 'noopener');
  await loadAudit();
}

function exportLinks(): void {
  for (const f of ['csv', 'json', 'junit'])
    $<HTMLAnchorElement>(`#export-${f}`).href = `/teacher/api/export?lab=${encodeURIComponent(lab)}&format=${f}`;
}

async function boot(): Promise<void> {
  let cls: ClassView;
  try {
    cls = await getJson<ClassView>('/teacher/api/class');
  } catch (err) {
    banner(`the server did not answer: ${(err as Error).message}`);
    return;
  }
  $('#class-name').textContent = cls.name;
  document.title = `hurrynet · ${cls.name}`;
  const select = $<HTMLSelectElement>('#lab');
  select.replaceChildren(...cls.labs.map((l) => h('option', { value: l.id }, `${l.id} ${l.title}`)));
  lab = cls.labs[0]?.id ?? '';
  select.addEventListener('change', () => {
    lab = select.value;
    exportLinks();
    void loadTable();
  });
  exportLinks();
  await Promise.all([loadTable(), loadAudit()]);
  // Every check run and world change reloads the table; the minute tick keeps "min ago" true.
  const events = new EventSource('/teacher/api/events');
  events.onmessage = () => void loadTable();
  setInterval(() => void loadTable(), 60_000);
}

void boot();
