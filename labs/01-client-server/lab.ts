// Lab 01: client and server. Alice's laptop talks HTTP to Bob's server and drives a small JSON
// resource with GET, POST, PUT and DELETE. Graded from the server's side: its state file and its
// access log (which records the source address that arrived, after NAT).
import { defineLab, type Vars } from '../../orchestrator/lab.js';
import { fail, pass, type Check, type CheckContext, type Evidence } from '../../checks/types.js';
import { http, readFile, resolveWith } from '../../checks/probes.js';
import { answerCheck } from '../../checks/answers.js';

const ALICE_PUBLIC = '203.0.113.5';
const NOTES_FILE = '/srv/web/data/notes.json';
const ACCESS_LOG = '/var/log/web/access.log';
const WORDS = ['router', 'packet', 'socket', 'header', 'subnet', 'gateway', 'resolver', 'segment'];
const COLOURS = ['amber', 'teal', 'violet', 'coral', 'indigo', 'olive'];

interface Note {
  id: number;
  title: string;
  body: string;
}

interface LogEntry {
  client: string;
  method: string;
  path: string;
  status: number;
}

async function serverState(ctx: CheckContext): Promise<{ notes?: Note[]; log: LogEntry[]; evidence: Evidence[] }> {
  const web = ctx.node('web');
  const [notes, log] = await Promise.all([readFile(web, NOTES_FILE), readFile(web, ACCESS_LOG)]);
  let items: Note[] | undefined;
  try {
    items = (JSON.parse(notes.text) as { items: Note[] }).items;
  } catch {
    items = undefined;
  }
  const entries = log.text
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as LogEntry];
      } catch {
        return [];
      }
    });
  const shortLog = { ...log.evidence, command: `tail -n 5 ${ACCESS_LOG}`, output: log.text.trim().split('\n').slice(-5).join('\n') };
  return { notes: items, log: entries, evidence: [notes.evidence, shortLog] };
}

/** True when the access log shows this method on this path arriving from Alice's public address. */
function arrivedFromAlice(log: LogEntry[], method: string, path: RegExp, status: number): boolean {
  return log.some((e) => e.client === ALICE_PUBLIC && e.method === method && path.test(e.path) && e.status === status);
}

function checks(v: Vars): Check[] {
  const title = String(v.title);
  const body = String(v.body);
  const updateId = Number(v.updateId);
  const newTitle = String(v.newTitle);
  const deleteId = Number(v.deleteId);
  return [
    {
      id: 'reach',
      title: "Bob's server answers HTTP from Alice's laptop",
      points: 1,
      hint: 'Try: curl -i http://web.bob.example/',
      async run(ctx) {
        const probe = await ctx.probe('alice');
        const { address, result } = await resolveWith(probe, 'web.bob.example', '192.168.1.1');
        if (!address) return fail('web.bob.example does not resolve through the home router', result.evidence);
        const r = await http(probe, { url: 'http://web.bob.example/', resolveTo: address });
        return r.status === 200 ? pass('GET / answered 200 OK', r.evidence) : fail(`GET / answered ${r.status || 'nothing'}`, r.evidence);
      },
    },
    {
      id: 'create',
      title: `POST created the note "${title}"`,
      points: 2,
      hint: `Send JSON with curl: curl -i -X POST -H 'Content-Type: application/json' -d '{"title":"${title}","body":"${body}"}' http://web.bob.example/api/notes`,
      async run(ctx) {
        const s = await serverState(ctx);
        const note = s.notes?.find((n) => n.title === title);
        if (!note) return fail(`the server has no note titled "${title}"`, ...s.evidence);
        if (note.body !== body) return fail(`the note "${title}" has body "${note.body}", expected "${body}"`, ...s.evidence);
        if (!arrivedFromAlice(s.log, 'POST', /^\/api\/notes\/?$/, 201)) {
          return fail(`the note exists, but the server never got a successful POST from Alice's network (${ALICE_PUBLIC})`, ...s.evidence);
        }
        return pass(`note ${note.id} "${title}" was created by a POST from ${ALICE_PUBLIC}`, ...s.evidence);
      },
    },
    {
      id: 'update',
      title: `PUT renamed note ${updateId} to "${newTitle}"`,
      points: 2,
      hint: `PUT replaces a note: curl -i -X PUT -H 'Content-Type: application/json' -d '{"title":"${newTitle}"}' http://web.bob.example/api/notes/${updateId}`,
      async run(ctx) {
        const s = await serverState(ctx);
        const note = s.notes?.find((n) => n.id === updateId);
        if (!note) return fail(`note ${updateId} is gone; it should have been updated, not deleted`, ...s.evidence);
        if (note.title !== newTitle) return fail(`note ${updateId} is titled "${note.title}", expected "${newTitle}"`, ...s.evidence);
        if (!arrivedFromAlice(s.log, 'PUT', new RegExp(`^/api/notes/${updateId}$`), 200)) {
          return fail(`the server never got a successful PUT /api/notes/${updateId} from ${ALICE_PUBLIC}`, ...s.evidence);
        }
        return pass(`note ${updateId} was renamed by a PUT from ${ALICE_PUBLIC}`, ...s.evidence);
      },
    },
    {
      id: 'delete',
      title: `DELETE removed note ${deleteId}`,
      points: 2,
      hint: `curl -i -X DELETE http://web.bob.example/api/notes/${deleteId}`,
      async run(ctx) {
        const s = await serverState(ctx);
        if (!s.notes) return fail('the server state could not be read', ...s.evidence);
        if (s.notes.some((n) => n.id === deleteId)) return fail(`note ${deleteId} still exists`, ...s.evidence);
        if (!arrivedFromAlice(s.log, 'DELETE', new RegExp(`^/api/notes/${deleteId}$`), 204)) {
          return fail(`note ${deleteId} is gone, but no successful DELETE for it came from ${ALICE_PUBLIC}`, ...s.evidence);
        }
        return pass(`note ${deleteId} was deleted by a DELETE from ${ALICE_PUBLIC}`, ...s.evidence);
      },
    },
    answerCheck({
      id: 'answer-created-id',
      title: 'answers.yaml: the id the server gave your new note',
      points: 1,
      key: 'created_id',
      hint: 'The POST response body (and its Location header) contains the new id.',
      async expected(ctx) {
        const s = await serverState(ctx);
        const note = s.notes?.find((n) => n.title === title);
        return { value: note ? String(note.id) : undefined, evidence: s.evidence };
      },
    }),
    answerCheck({
      id: 'answer-statuses',
      title: 'answers.yaml: the status codes of your POST and your DELETE',
      points: 1,
      key: 'post_status',
      alsoKeys: { delete_status: '204' },
      hint: 'curl -i shows the status line, e.g. "HTTP/1.1 201 Created".',
      async expected(ctx) {
        // Only answers about requests that really happened count.
        const s = await serverState(ctx);
        const posted = arrivedFromAlice(s.log, 'POST', /^\/api\/notes\/?$/, 201);
        const deleted = s.log.some((e) => e.client === ALICE_PUBLIC && e.method === 'DELETE' && e.status === 204);
        return { value: posted && deleted ? '201' : undefined, evidence: s.evidence };
      },
    }),
  ];
}

export default defineLab({
  number: 1,
  slug: 'client-server',
  title: 'Client and server: HTTP methods',
  topics: ['client-server', 'HTTP', 'GET/POST/PUT/DELETE', 'status codes', 'NAT'],
  minutes: 25,
  goal: "Use curl on Alice's laptop to create, read, update and delete notes on Bob's server, and leave the server in the state your task card asks for.",
  submissionNodes: ['alice'],
  questions: [
    { key: 'created_id', prompt: 'The id the server gave the note you created' },
    { key: 'post_status', prompt: 'The HTTP status code of your successful POST' },
    { key: 'delete_status', prompt: 'The HTTP status code of your successful DELETE' },
  ],
  vary(rng) {
    const updateId = rng.pick([1, 2]);
    return {
      title: `${rng.pick(WORDS)}-${rng.int(10, 99)}`,
      body: `written by alice in ${rng.pick(COLOURS)} ink`,
      updateId,
      deleteId: updateId === 1 ? 2 : 1,
      newTitle: `${rng.pick(COLOURS)}-${rng.pick(WORDS)}`,
    };
  },
  task(v) {
    return {
      create_title: String(v.title),
      create_body: String(v.body),
      rename_note: String(v.updateId),
      rename_to: String(v.newTitle),
      delete_note: String(v.deleteId),
    };
  },
  faults: () => [],
  checks,
});
