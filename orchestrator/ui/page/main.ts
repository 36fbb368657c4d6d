// The browser page of `hurrynet ui`: the lab picker, the world, terminals on its nodes, the
// handout with the task card, "Check my work" with hints one level at a time, and journeys. Plain
// DOM and TypeScript; everything it shows comes from the server's routes (../protocol.ts).
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { $, h } from './dom.js';
// Styles under the page's policy: xterm's <style> elements get the page's nonce.
import './style-nonce.js';
import { ApiError, failure, getJson, postJson } from './http.js';
import { HINT_LEVEL_NAMES, MAX_HINT_LEVEL, type CheckResult, type Evidence } from '../../../checks/types.js';
import {
  WS_TERMINAL_PATH,
  type CheckInfo,
  type CheckSummary,
  type HandoutView,
  type HintView,
  type InstanceView,
  type JourneyView,
  type LabSummary,
  type LastReport,
  type SessionView,
  type StreamEvent,
  type TerminalNotice,
  type WorldView,
} from '../protocol.js';

// ---- small helpers --------------------------------------------------------------------------------

/** A POST whose answer is NDJSON: each line is handed to onEvent as it arrives. */
async function stream(path: string, body: unknown, onEvent: (e: StreamEvent) => void): Promise<void> {
  const r = await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/x-ndjson' },
    body: JSON.stringify(body),
  });
  if (!r.ok) throw await failure(r);
  if (!r.body) throw new Error('the server sent no answer');
  const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buffered += value;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line) onEvent(JSON.parse(line) as StreamEvent);
    }
    if (done) break;
  }
}

function banner(message: string | undefined, kind: 'error' | 'info' = 'error'): void {
  const b = $('#banner');
  b.hidden = !message;
  b.className = `banner ${kind}`;
  b.textContent = message ?? '';
}

// ---- state ------------------------------------------------------------------------------------------

let session: SessionView;
let current: InstanceView | undefined;
let worldLab: string | null | undefined;
/** The checks of the running lab and how many hint levels each result shows. */
const hintLevels = new Map<string, number>();

const q = (params: Record<string, string> = {}) =>
  `?${new URLSearchParams({ instance: session.instance, ...params }).toString()}`;

// ---- panels -----------------------------------------------------------------------------------------

/** The panel on show; a finished start moves to the handout only if the learner stayed on the labs. */
let shownPanel = 'labs';

function showPanel(name: string): void {
  shownPanel = name;
  for (const tab of document.querySelectorAll<HTMLButtonElement>('.panel-tabs [data-panel]'))
    tab.setAttribute('aria-selected', String(tab.dataset.panel === name));
  for (const panel of document.querySelectorAll<HTMLElement>('.panel')) panel.hidden = panel.id !== `panel-${name}`;
}

// ---- labs -------------------------------------------------------------------------------------------

function renderLabs(labs: LabSummary[]): void {
  const body = $('#labs tbody');
  body.replaceChildren(
    ...labs.map((lab) => {
      const start = h('button', { type: 'button', 'data-start': lab.id }, 'Start');
      start.addEventListener('click', () => void startLab(lab.id, {}));
      return h(
        'tr',
        { 'data-lab': lab.id },
        h('td', {}, lab.id),
        h('td', {}, h('b', {}, lab.slug), ' ', lab.title),
        h('td', { class: 'topics' }, lab.topics.join(', ')),
        h('td', {}, `${lab.minutes} min`),
        h('td', {}, start),
      );
    }),
  );
}

function setBusy(busy: boolean): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-start], #btn-reset, #btn-stop, #btn-check'))
    b.disabled =
      busy ||
      ((b.id === 'btn-reset' || b.id === 'btn-check') && !current?.lab) ||
      (b.id === 'btn-stop' && !!current?.empty);
  $<HTMLButtonElement>('#btn-journey').disabled = busy || !!current?.empty;
}

async function startLab(lab: string, opts: { reset?: boolean; force?: boolean }): Promise<void> {
  const progress = $('#progress');
  progress.hidden = false;
  progress.textContent = '';
  showPanel('labs');
  banner(undefined);
  setBusy(true);
  const line = (text: string) => {
    progress.textContent += `${text}\n`;
    progress.scrollTop = progress.scrollHeight;
  };
  let ok = false;
  try {
    const path = opts.reset ? '/api/reset' : '/api/start';
    await stream(path, { instance: session.instance, lab, force: !!opts.force }, (e) => {
      if (e.type === 'progress') line(e.message);
      else if (e.type === 'error') line(`error: ${e.message}`);
      else if (e.type === 'started') {
        ok = true;
        line(
          e.already
            ? `lab ${e.lab} is already running (Reset starts it over)`
            : `ready: lab ${e.lab} is running (${e.seconds.toFixed(1)} s${e.fromStandby ? ', from the standby world' : ''})`,
        );
      }
    });
  } catch (err) {
    if (err instanceof ApiError && err.status === 409 && err.body.confirm === true) {
      setBusy(false);
      if (window.confirm(`${err.message}. Replace it anyway?`)) return startLab(lab, { ...opts, force: true });
      line('nothing changed');
      return;
    }
    line(`error: ${(err as Error).message}`);
  } finally {
    setBusy(false);
  }
  await refresh();
  if (ok) {
    if (shownPanel === 'labs') showPanel('handout');
    if (!terminals.length) void openTerminal('alice');
  }
}

// ---- instance, world --------------------------------------------------------------------------------

async function refresh(first = false): Promise<void> {
  // The world is drawn for whatever lab runs: at the start it loads beside the instance's status.
  const world = first ? loadWorld() : undefined;
  try {
    current = await getJson<InstanceView>(`/api/instance${q()}`);
  } catch (err) {
    $('#status').textContent = `cannot reach the server: ${(err as Error).message}`;
    $('#status').className = 'status bad';
    void world?.catch(() => undefined);
    return;
  }
  const s = $('#status');
  if (current.empty) {
    s.textContent = 'nothing runs here: start a lab';
    s.className = 'status';
  } else {
    const what = current.lab ? `lab ${current.lab.id} (${current.lab.slug})` : 'the free world';
    s.textContent = `${what} · ${current.healthy ? 'healthy' : 'not healthy'}${current.busy ? ` · ${current.busy}…` : ''}`;
    s.className = `status ${current.healthy ? 'good' : 'bad'}`;
  }
  for (const row of document.querySelectorAll<HTMLElement>('#labs tr[data-lab]'))
    row.classList.toggle('running', row.dataset.lab === current.lab?.id);
  setBusy(!!current.busy);
  // A world that failed to draw is drawn again at the next look.
  await world?.catch(() => undefined);
  const lab = current.lab?.id ?? null;
  if (lab !== worldLab || drawnLab !== lab) {
    worldLab = lab;
    await Promise.all([drawnLab === lab ? undefined : loadWorld(), loadHandout(), loadReport()]);
  }
  paintHealth();
}

/** The lab whose world is drawn (null: the free world). */
let drawnLab: string | null | undefined;

async function loadWorld(): Promise<void> {
  const view = await getJson<WorldView>(`/api/world${q()}`);
  drawnLab = view.lab;
  const doc = new DOMParser().parseFromString(view.svg, 'image/svg+xml');
  const svg = document.importNode(doc.documentElement, true);
  svg.removeAttribute('width');
  svg.removeAttribute('height');
  for (const g of svg.querySelectorAll<SVGGElement>('g[data-node]')) {
    const node = g.dataset.node as string;
    g.setAttribute('tabindex', '0');
    g.setAttribute('role', 'button');
    g.setAttribute('aria-label', `open a terminal on ${node}`);
    g.addEventListener('click', () => void openTerminal(node));
    g.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') void openTerminal(node);
    });
  }
  $('#world').replaceChildren(svg);
}

function paintHealth(): void {
  const nodes = new Map((current?.nodes ?? []).map((n) => [n.node, n]));
  for (const g of document.querySelectorAll<SVGGElement>('#world g[data-node]')) {
    const n = nodes.get(g.dataset.node as string);
    const health = !n ? 'absent' : n.state !== 'running' ? 'down' : n.ready ? 'ready' : 'starting';
    g.classList.remove('absent', 'down', 'ready', 'starting');
    g.classList.add(health);
    g.dataset.health = health;
  }
}

// ---- handout ----------------------------------------------------------------------------------------

async function loadHandout(): Promise<void> {
  const card = $('#taskcard');
  if (!current?.lab) {
    card.hidden = true;
    $('#handout').replaceChildren(h('p', { class: 'muted' }, 'Start a lab to see its handout.'));
    return;
  }
  const view = await getJson<HandoutView>(`/api/handout${q()}`);
  // The handout is the lab's own README.md, rendered by the server (no scripts run: the page's policy).
  $('#handout').innerHTML = view.html;
  if (view.task) {
    card.hidden = false;
    card.replaceChildren(
      h('h3', {}, 'Your task card'),
      h('dl', {}, ...Object.entries(view.task).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
      h('p', { class: 'muted' }, 'Also in /root/TASK.txt on alice.'),
    );
  } else card.hidden = true;
}

// ---- checks -----------------------------------------------------------------------------------------

function evidenceText(e: Evidence): string {
  return `${e.where}$ ${e.command}\n(exit ${e.exitCode}${e.graderError ? `, the grader's own error: ${e.graderError}` : ''})\n${e.output}`;
}

function checkItem(info: CheckInfo): HTMLLIElement {
  return h(
    'li',
    { class: 'check pending', 'data-check': info.id },
    h(
      'div',
      { class: 'check-head' },
      h('span', { class: 'mark' }, '…'),
      ` ${info.title} `,
      h('span', { class: 'points' }, `${info.points} points`),
    ),
    h('p', { class: 'reason muted' }, 'checking…'),
  );
}

function renderHints(li: HTMLElement, r: CheckResult, hints: string[]): void {
  li.querySelector('.hints')?.remove();
  li.querySelector('.next-hint')?.remove();
  if (r.status !== 'failed') return;
  const level = hints.length;
  hintLevels.set(r.id, level);
  const list = h(
    'ol',
    { class: 'hints' },
    ...hints.map((text, i) =>
      h('li', { 'data-level': String(i + 1) }, h('b', {}, `${HINT_LEVEL_NAMES[i] ?? 'hint'}: `), text),
    ),
  );
  li.querySelector('.reason')?.after(list);
  if (level < MAX_HINT_LEVEL) {
    const next = h(
      'button',
      { type: 'button', class: 'next-hint' },
      `Show next hint (${level + 1} of ${MAX_HINT_LEVEL}: ${HINT_LEVEL_NAMES[level] ?? ''})`,
    );
    next.addEventListener('click', () => {
      next.disabled = true;
      getJson<HintView>(`/api/hint${q({ check: r.id, level: String(level + 1) })}`)
        .then((v) => renderHints(li, r, v.hints))
        .catch((err: Error) => {
          next.disabled = false;
          banner(err.message);
        });
    });
    list.after(next);
  }
}

function renderResult(r: CheckResult): void {
  let li = document.querySelector<HTMLLIElement>(`#results li[data-check="${CSS.escape(r.id)}"]`);
  if (!li) {
    li = checkItem({ id: r.id, title: r.title, points: r.points, required: r.required });
    $('#results').append(li);
  }
  li.className = `check ${r.status}`;
  li.replaceChildren(
    h(
      'div',
      { class: 'check-head' },
      h('span', { class: 'mark' }, r.status === 'passed' ? '✓' : r.status === 'failed' ? '✗' : '?'),
      ` ${r.title} `,
      h('span', { class: 'points' }, `${r.earned}/${r.points} points${r.required ? '' : ' (optional)'}`),
    ),
    h('p', { class: 'reason' }, r.reason),
  );
  if (r.evidence.length)
    li.append(
      h(
        'details',
        { class: 'evidence' },
        h('summary', {}, `What the grader ran and saw (${r.evidence.length})`),
        ...r.evidence.map((e) => h('pre', {}, evidenceText(e))),
      ),
    );
  renderHints(li, r, r.hints ?? []);
}

function renderSummary(s: CheckSummary, results: number): void {
  $('#score').textContent =
    `${s.score}/${s.maxScore} points · ${s.passed ? 'every required check passes' : 'not done yet'}` +
    `${s.inconclusive.length ? ` · ${s.inconclusive.length} could not be observed: run the check again` : ''}` +
    ` · ${results} checks, ${new Date(s.startedAt).toLocaleTimeString()}`;
  $('#score').className = `score ${s.passed ? 'good' : 'bad'}`;
}

async function loadReport(): Promise<void> {
  $('#results').replaceChildren();
  $('#score').textContent = '';
  if (!current?.lab) return;
  const last = await getJson<LastReport | null>(`/api/report${q()}`);
  if (!last) return;
  for (const r of last.results) renderResult(r);
  renderSummary(last.summary, last.results.length);
}

async function runCheck(): Promise<void> {
  showPanel('check');
  banner(undefined);
  setBusy(true);
  $('#results').replaceChildren();
  $('#score').textContent = 'checking…';
  $('#score').className = 'score';
  let count = 0;
  try {
    await stream('/api/check', { instance: session.instance }, (e) => {
      if (e.type === 'checks') $('#results').replaceChildren(...e.checks.map(checkItem));
      else if (e.type === 'result') {
        count++;
        renderResult(e.result);
      } else if (e.type === 'checked') renderSummary(e.summary, count);
      else if (e.type === 'error') banner(`the check did not finish: ${e.message}`);
    });
  } catch (err) {
    banner((err as Error).message);
    $('#score').textContent = '';
  } finally {
    setBusy(false);
  }
}

// ---- journeys ---------------------------------------------------------------------------------------

function renderJourney(j: JourneyView): void {
  const out = $('#journey-out');
  out.replaceChildren(
    h(
      'p',
      {},
      h('code', {}, j.command.join(' ')),
      ` on alice: exit ${j.exitCode}${j.timedOut ? ' (stopped at its time limit)' : ''}, ${j.packets} packets in ${j.flows} conversations`,
    ),
    ...(j.stdout.trim() ? [h('pre', { class: 'stdout' }, j.stdout.trimEnd())] : []),
    ...(j.stderr.trim() ? [h('pre', { class: 'stderr' }, j.stderr.trimEnd())] : []),
    h('h4', {}, 'What the NATs on the way rewrote'),
    j.nat.length
      ? h(
          'ul',
          { class: 'nat' },
          ...j.nat.map((c) =>
            h(
              'li',
              { class: 'nat-change', 'data-node': c.node, 'data-why': c.why },
              h('b', {}, c.node),
              `: ${c.field} `,
              h('mark', {}, c.from),
              ' → ',
              h('mark', {}, c.to),
              ` (${c.why}, ${c.packets} packet${c.packets === 1 ? '' : 's'})`,
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'no address or port was rewritten'),
    h('h4', {}, 'Conversations'),
    h('ul', { class: 'paths' }, ...j.paths.map((p) => h('li', {}, p))),
    ...j.warnings.map((w) => h('p', { class: 'warn' }, `warning: ${w}`)),
  );
  const frame = $<HTMLIFrameElement>('#journey-frame');
  frame.hidden = false;
  frame.src = j.htmlUrl;
}

async function runJourney(): Promise<void> {
  const preset = $<HTMLSelectElement>('#journey-preset').value;
  const args = $<HTMLInputElement>('#journey-args').value.trim().split(/\s+/).filter(Boolean);
  const progress = $('#journey-progress');
  progress.hidden = false;
  progress.textContent = '';
  $('#journey-out').replaceChildren();
  $<HTMLIFrameElement>('#journey-frame').hidden = true;
  setBusy(true);
  try {
    const body =
      preset === '--' ? { instance: session.instance, command: args } : { instance: session.instance, preset, args };
    await stream('/api/journey', body, (e) => {
      if (e.type === 'progress') progress.textContent += `${e.message}\n`;
      else if (e.type === 'error') progress.textContent += `error: ${e.message}\n`;
      else if (e.type === 'journey') renderJourney(e.journey);
    });
  } catch (err) {
    progress.textContent += `error: ${(err as Error).message}\n`;
  } finally {
    setBusy(false);
  }
}

// ---- terminals --------------------------------------------------------------------------------------

interface TermTab {
  id: number;
  node: string;
  term: Terminal;
  fit: FitAddon;
  pane: HTMLElement;
  tab: HTMLElement;
  overlay: HTMLElement;
  ws?: WebSocket;
  /** The shell ended by itself (exit), rather than the connection dropping. */
  ended: boolean;
}

const terminals: TermTab[] = [];
let nextId = 1;
const encoder = new TextEncoder();

function activate(t: TermTab): void {
  for (const x of terminals) {
    x.pane.hidden = x !== t;
    x.tab.setAttribute('aria-selected', String(x === t));
  }
  fitTerm(t);
  t.term.focus();
}

function fitTerm(t: TermTab): void {
  if (t.pane.hidden) return;
  try {
    t.fit.fit();
  } catch {
    /* not laid out yet */
  }
}

function showOverlay(t: TermTab, message: string | undefined): void {
  t.overlay.hidden = !message;
  t.overlay.querySelector('.message')?.replaceChildren(message ?? '');
}

function connect(t: TermTab): void {
  t.ws?.close();
  t.ended = false;
  const params = new URLSearchParams({
    instance: session.instance,
    node: t.node,
    cols: String(t.term.cols),
    rows: String(t.term.rows),
  });
  const ws = new WebSocket(
    `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${WS_TERMINAL_PATH}?${params}`,
  );
  ws.binaryType = 'arraybuffer';
  t.ws = ws;
  let ready = false;
  showOverlay(t, `connecting to ${t.node}…`);
  ws.addEventListener('message', (e: MessageEvent<ArrayBuffer | string>) => {
    if (typeof e.data !== 'string') return void t.term.write(new Uint8Array(e.data));
    const n = JSON.parse(e.data) as TerminalNotice;
    if (n.type === 'ready') {
      ready = true;
      showOverlay(t, undefined);
    } else if (n.type === 'exit') {
      t.ended = true;
      showOverlay(t, `The shell on ${t.node} ended (exit ${n.code}).`);
    } else if (n.type === 'error') showOverlay(t, n.message);
  });
  ws.addEventListener('close', (e) => {
    if (t.ws !== ws || t.ended) return;
    if (!ready) {
      // The browser does not show why an upgrade was refused: ask the server in words.
      void getJson(`/api/node${q({ node: t.node })}`).then(
        () => showOverlay(t, `Could not open a terminal on ${t.node} (the connection was refused).`),
        (err: Error) => showOverlay(t, `Could not open a terminal on ${t.node}: ${err.message}`),
      );
      return;
    }
    const why = e.code === 1009 ? ': the input was larger than the server takes at once (64 kB)' : '';
    showOverlay(t, `The connection to ${t.node} dropped (code ${e.code})${why}. The lab keeps running.`);
  });
}

function openTerminal(node: string, opts: { another?: boolean } = {}): TermTab {
  const existing = terminals.find((t) => t.node === node);
  if (existing && !opts.another) {
    activate(existing);
    return existing;
  }
  const id = nextId++;
  const same = terminals.filter((t) => t.node === node).length;
  const term = new Terminal({
    cursorBlink: true,
    fontFamily: "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace",
    fontSize: 13,
    scrollback: 5000,
    convertEol: false,
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  const host = h('div', { class: 'term-host' });
  const overlay = h(
    'div',
    { class: 'term-overlay', hidden: '' },
    h('p', { class: 'message' }),
    h('button', { type: 'button', class: 'reconnect' }, 'Reconnect'),
  );
  const pane = h('div', { class: 'term-pane', 'data-term': String(id), 'data-node': node }, host, overlay);
  const label = h('span', {}, same ? `${node} (${same + 1})` : node);
  const dup = h('button', { type: 'button', class: 'tab-dup', title: `another terminal on ${node}` }, '+');
  const close = h('button', { type: 'button', class: 'tab-close', title: 'close this terminal' }, '×');
  const tab = h(
    'div',
    { class: 'term-tab', role: 'tab', 'data-term': String(id), 'data-node': node },
    label,
    dup,
    close,
  );
  const t: TermTab = { id, node, term, fit, pane, tab, overlay, ended: false };
  terminals.push(t);
  const tabs = $('#term-tabs');
  tabs.querySelector('.muted')?.remove();
  tabs.append(tab);
  $('#term-panes').append(pane);
  term.open(host);
  term.onData((d) => {
    if (t.ws?.readyState === WebSocket.OPEN) t.ws.send(encoder.encode(d));
  });
  term.onBinary((d) => {
    if (t.ws?.readyState === WebSocket.OPEN) t.ws.send(Uint8Array.from(d, (c) => c.charCodeAt(0)));
  });
  term.onResize(({ cols, rows }) => {
    if (t.ws?.readyState === WebSocket.OPEN) t.ws.send(JSON.stringify({ type: 'resize', cols, rows }));
  });
  label.addEventListener('click', () => activate(t));
  dup.addEventListener('click', () => void openTerminal(node, { another: true }));
  close.addEventListener('click', () => closeTerminal(t));
  overlay.querySelector('.reconnect')?.addEventListener('click', () => {
    t.term.write('\r\n\x1b[2m[reconnecting]\x1b[0m\r\n');
    connect(t);
  });
  new ResizeObserver(() => fitTerm(t)).observe(host);
  activate(t);
  connect(t);
  return t;
}

function closeTerminal(t: TermTab): void {
  t.ended = true;
  t.ws?.close();
  t.term.dispose();
  t.pane.remove();
  t.tab.remove();
  terminals.splice(terminals.indexOf(t), 1);
  const last = terminals[terminals.length - 1];
  if (last) activate(last);
  else $('#term-tabs').append(h('span', { class: 'muted' }, 'Click a node to open its terminal.'));
}

/** For the tests and the benchmark: the terminals and their sockets, read-only. */
declare global {
  interface Window {
    hurrynet?: { terminals(): { node: string; term: Terminal; ws?: WebSocket }[] };
  }
}
window.hurrynet = { terminals: () => terminals.map((t) => ({ node: t.node, term: t.term, ws: t.ws })) };

// ---- start ------------------------------------------------------------------------------------------

async function boot(): Promise<void> {
  for (const tab of document.querySelectorAll<HTMLButtonElement>('.panel-tabs [data-panel]'))
    tab.addEventListener('click', () => showPanel(tab.dataset.panel as string));
  try {
    session = await getJson<SessionView>('/api/session');
  } catch (err) {
    banner(`the server did not answer: ${(err as Error).message}`);
    return;
  }
  // The class teacher's page opens a learner's world here (?instance=class-ID); a learner's session
  // is bound to their own instance, and the server refuses any other.
  const asked = new URLSearchParams(location.search).get('instance');
  if (asked) session = { ...session, instance: asked };
  $('#instance').textContent = session.instance;
  document.title = `hurrynet · ${session.instance}`;
  if (session.notice) banner(session.notice, 'info');
  const presets = $<HTMLSelectElement>('#journey-preset');
  presets.replaceChildren(
    ...session.presets.map((p) => h('option', { value: p.name, title: p.description }, p.usage)),
    h('option', { value: '--' }, 'any command (type it as the arguments)'),
  );
  $('#btn-check').addEventListener('click', () => void runCheck());
  $('#btn-reset').addEventListener('click', () => {
    if (current?.lab) void startLab(current.lab.id, { reset: true });
  });
  $('#btn-stop').addEventListener('click', () => {
    if (!window.confirm(`Remove the world of instance ${session.instance}? Your work in it is lost.`)) return;
    setBusy(true);
    postJson<{ containers: number }>('/api/stop', { instance: session.instance })
      .then(() => banner('the world was removed', 'info'))
      .catch((err: Error) => banner(err.message))
      .finally(() => void refresh());
  });
  $('#journey-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void runJourney();
  });
  window.addEventListener('resize', () => terminals.forEach(fitTerm));
  await Promise.all([getJson<LabSummary[]>('/api/labs').then(renderLabs), refresh(true)]);
  document.body.dataset.ready = 'true';
  // Health changes by itself (a node that dies, a check elsewhere): look again now and then.
  setInterval(() => {
    if (!document.hidden) void refresh();
  }, 10_000);
}

void boot();
