// The class teacher's page: who passed which check of a lab, live (server-sent events on every
// check run), who has not made progress for a while, a learner's world reset or opened to help
// (both asked first, both in the audit log), a learner's open terminals watched live and read-only
// (audited too), and grade exports in the grader's formats.
import { Terminal } from '@xterm/xterm';
import { $, h } from './dom.js';
// Styles under the page's policy: xterm's <style> elements get the page's nonce.
import './style-nonce.js';
import { getJson, postJson } from './http.js';
import type { ClassView, TableRow, TableView } from '../../classroom/protocol.js';
import { WS_WATCH_PATH, type LiveTerminalView, type TerminalNotice } from '../protocol.js';

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
  const open = l.terminals > 0;
  const watch = h(
    'button',
    {
      type: 'button',
      'data-watch': l.id,
      title: open
        ? `watch ${l.name}'s terminal${l.terminals > 1 ? 's' : ''} live, read-only`
        : `${l.name} has no terminal open`,
      ...(open ? {} : { disabled: '' }),
    },
    open ? `Watch (${l.terminals})` : 'Watch',
  );
  watch.addEventListener('click', () => void watchLearner(l));
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
    h('td', {}, reset, ' ', help, ' ', watch),
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

// ---- watching a learner's terminals, read-only ------------------------------------------------------

interface WatchPane {
  node: string;
  term: Terminal;
  ws: WebSocket;
}

let watching: WatchPane[] = [];

function closeWatch(): void {
  for (const p of watching) {
    p.ws.close();
    p.term.dispose();
  }
  watching = [];
  $('#watch-panes').replaceChildren();
  $('#watch-empty').hidden = true;
  $('#watch').hidden = true;
}

/** One watched terminal: output only; the view takes no input and the server drops any anyway. */
function watchPane(l: TableRow, t: LiveTerminalView): WatchPane {
  const label = h('p', { class: 'watch-label' }, `read-only: you are watching ${l.name}'s terminal on ${t.node}`);
  const status = h('span', { class: 'muted' }, ' connecting…');
  label.append(status);
  const host = h('div', { class: 'watch-term' });
  $('#watch-panes').append(h('div', { class: 'watch-pane', 'data-node': t.node, 'data-session': t.id }, label, host));
  const term = new Terminal({
    disableStdin: true,
    cursorBlink: false,
    cols: t.cols,
    rows: t.rows,
    fontFamily: "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace",
    fontSize: 13,
    scrollback: 2000,
  });
  term.open(host);
  const ws = new WebSocket(
    `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${WS_WATCH_PATH}?session=${encodeURIComponent(t.id)}`,
  );
  ws.binaryType = 'arraybuffer';
  let ended = false;
  ws.addEventListener('message', (e: MessageEvent<ArrayBuffer | string>) => {
    if (typeof e.data !== 'string') return void term.write(new Uint8Array(e.data));
    const n = JSON.parse(e.data) as TerminalNotice;
    if (n.type === 'ready') {
      status.textContent = ' (live)';
      void loadAudit(); // the server has written "watched a terminal"
    } else if (n.type === 'resize') term.resize(n.cols, n.rows);
    else if (n.type === 'exit') {
      ended = true;
      status.textContent = ` (the terminal ended, exit ${n.code})`;
    } else if (n.type === 'error') status.textContent = ` (${n.message})`;
  });
  ws.addEventListener('close', () => {
    if (!ended) status.textContent = ' (no longer connected: close and watch again)';
  });
  return { node: t.node, term, ws };
}

async function watchLearner(l: TableRow): Promise<void> {
  closeWatch();
  let list: LiveTerminalView[];
  try {
    list = await getJson<LiveTerminalView[]>(`/teacher/api/terminals?learner=${encodeURIComponent(l.id)}`);
  } catch (err) {
    banner(`the terminals could not be listed: ${(err as Error).message}`);
    return;
  }
  $('#watch-title').textContent = `Watching ${l.name} (read-only: what you type here goes nowhere)`;
  $('#watch').hidden = false;
  const empty = $('#watch-empty');
  empty.hidden = list.length > 0;
  empty.textContent = `${l.name} has no terminal open right now: there is nothing to watch.`;
  watching = list.map((t) => watchPane(l, t));
}

/** For the tests: the watch view's terminals and sockets. */
declare global {
  interface Window {
    hurrynetTeacher?: { watching(): { node: string; term: Terminal; ws: WebSocket }[] };
  }
}
window.hurrynetTeacher = { watching: () => watching.map((p) => ({ ...p })) };

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
  $('#watch-close').addEventListener('click', closeWatch);
  await Promise.all([loadTable(), loadAudit()]);
  // Every check run and world change reloads the table; the minute tick keeps "min ago" true.
  const events = new EventSource('/teacher/api/events');
  events.onmessage = () => void loadTable();
  setInterval(() => void loadTable(), 60_000);
}

void boot();
