// Lab 01: client and server. Alice's laptop talks HTTP to Bob's server and drives a small JSON
// resource with GET, POST, PUT and DELETE. Graded from the server's side: its state file and its
// access log (which records the source address that arrived, after NAT).
//
// Answers only this learner's world can give: Bob's server has been running a while, so the id
// his counter gives the next note is drawn at every start (never the 3 of a fresh server that the
// handout's example once showed). The status codes of a POST and a DELETE are the same for every
// learner; they count only together with that id, from the same exchange. The grader's own GET /
// carries a nonce that must turn up in Bob's access log, so a fake server on Alice's laptop (behind
// a redirect) is told apart from Bob's.
import { fail, pass, type Check, type CheckContext, type Evidence, type Host } from '../../checks/types.js';
import { http, readFile, resolveWith } from '../../checks/probes.js';
import { answersEvidence, normalizeAnswer } from '../../checks/answers.js';
import {
  accessEntriesWith,
  addressOf,
  defineLab,
  draws,
  FILES,
  nonce,
  readAccessLog,
  type AccessEntry,
  type Fault,
  type World,
} from '../kit/index.js';
import { readStandIns } from '../kit/routing.js';

/** The first id the server hands out is drawn at every start from this range. */
export const FIRST_ID_MIN = 100;
export const FIRST_ID_MAX = 9999;
export const WORDS = ['router', 'packet', 'socket', 'header', 'subnet', 'gateway', 'resolver', 'segment'];
export const COLOURS = ['amber', 'teal', 'violet', 'coral', 'indigo', 'olive'];
/** Bob's two notes on a fresh server: one is renamed, the other deleted. */
export const BOB_NOTES = [1, 2] as const;

export type ClientServerVars = {
  updateId: number;
  deleteId: number;
  title: string;
  body: string;
  newTitle: string;
};

const vary = draws<ClientServerVars>({
  updateId: (r) => r.pick(BOB_NOTES),
  deleteId: (_r, d) => BOB_NOTES.find((n) => n !== d.updateId) ?? BOB_NOTES[0],
  title: (r) => `${r.pick(WORDS)}-${r.int(10, 99)}`,
  body: (r) => `written by alice in ${r.pick(COLOURS)} ink`,
  newTitle: (r) => `${r.pick(COLOURS)}-${r.pick(WORDS)}`,
});

interface Note {
  id: number;
  title: string;
  body: string;
}

/** What the grader judges by, from the lab's own world. */
interface Facts {
  /** Alice's public address: the home router's, after NAT. */
  alicePublic: string;
  /** The home router, Alice's resolver. */
  router: string;
}

const factsOf = (world: World): Facts => ({
  alicePublic: addressOf(world, 'home', 'access'),
  router: addressOf(world, 'home', 'lan'),
});

/** Bob's notes (his state file) and his access log, with the log cut to its last lines as evidence. */
async function serverState(ctx: CheckContext): Promise<{ notes?: Note[]; log: AccessEntry[]; evidence: Evidence[] }> {
  const web = ctx.node('web');
  const [notes, log] = await Promise.all([readFile(web, FILES.webNotes), readAccessLog(web)]);
  let items: Note[] | undefined;
  try {
    items = (JSON.parse(notes.text) as { items: Note[] }).items;
  } catch {
    items = undefined;
  }
  const shortLog = {
    ...log.evidence,
    command: `tail -n 5 ${FILES.webAccessLog}`,
    output: log.evidence.output.trim().split('\n').slice(-5).join('\n'),
  };
  return { notes: items, log: log.entries, evidence: [notes.evidence, shortLog] };
}

/** True when the access log shows this method on this path arriving from Alice's public address. */
function arrivedFrom(client: string, log: AccessEntry[], method: string, path: RegExp, status: number): boolean {
  return log.some((e) => e.client === client && e.method === method && path.test(e.path) && e.status === status);
}

/** The learner's created_id, judged against the note with her title on Bob's server. */
async function createdIdAnswer(
  ctx: CheckContext,
  title: string,
): Promise<{ ok: true; id: number; evidence: Evidence[] } | { ok: false; reason: string; evidence: Evidence[] }> {
  const answers = await ctx.answers();
  const file = answersEvidence(answers);
  if (!answers.ok) return { ok: false, reason: answers.error, evidence: [file] };
  const s = await serverState(ctx);
  const note = s.notes?.find((n) => n.title === title);
  if (!note)
    return {
      ok: false,
      reason: `the answer to "created_id" cannot be judged yet: the server has no note titled "${title}"`,
      evidence: [file, ...s.evidence],
    };
  const given = normalizeAnswer(answers.values.created_id);
  if (!given) return { ok: false, reason: 'answers.yaml misses "created_id"', evidence: [file] };
  if (given !== String(note.id))
    return {
      ok: false,
      reason: `your created_id (${JSON.stringify(String(answers.values.created_id).trim())}) is not the id Bob's server gave the note "${title}"`,
      evidence: [file, ...s.evidence],
    };
  return { ok: true, id: note.id, evidence: [file] };
}

/** What on Alice's laptop answers in Bob's place: a redirect in her nat table, or his address on her. */
async function localStandIn(probe: Host, bob: string): Promise<string> {
  const s = await readStandIns(probe, [bob]);
  const notes: string[] = [];
  const rule = s.redirects[0];
  if (rule)
    notes.push(
      `alice's own nat table sends the request to a program of hers: ${rule.rule}${rule.legacy ? ' (iptables-legacy)' : ''}`,
    );
  if (s.local.length) notes.push(`Bob's address ${bob} is on alice herself`);
  return notes.join('; ');
}

/**
 * Bob's server has been running a while: its notes counter continues at an id drawn now (at every
 * start, so two starts and two learners differ), Bob's two notes kept. The server reads the edited
 * file again on SIGHUP and says so in its log: no restart.
 */
function faults(): Fault[] {
  const log = `${FILES.webLogDir}/server.log`;
  const script = [
    `next=$(shuf -i ${FIRST_ID_MIN}-${FIRST_ID_MAX} -n 1)`,
    `f=${FILES.webNotes}`,
    // The file is JSON.stringify(notes, null, 2): nextId is the first key, on a line of its own.
    `sed -i -E 's/^(  "nextId": )[0-9]+,$/\\1'"$next"',/' "$f"`,
    `grep -q '^  "nextId": '"$next"',$' "$f" || { echo "no nextId in $f" >&2; exit 1; }`,
    'kill -HUP "$(pgrep -o -x node)"',
    `for _ in $(seq 200); do grep -qx "notes reloaded: next id $next" ${log} && exit 0; sleep 0.05; done`,
    'echo "the notes server did not read its notes again" >&2; exit 1',
  ].join('\n');
  return [{ node: 'web', description: "Bob's notes server, its id counter somewhere past its first notes", script }];
}

const reachCheck = (f: Facts): Check => ({
  id: 'reach',
  title: "Bob's server answers HTTP from Alice's laptop",
  points: 1,
  hint: [
    "Bob's front page, asked from Alice's laptop: the status line must say 200, and the answer must come from Bob's own server (his access log records every request it answers), not from something on her laptop.",
    'curl -i http://web.bob.example/ on alice shows the status line, the headers and the page; iptables -t nat -S on alice lists any rule that would send the request to a program of hers instead.',
    "Remove what answers in Bob's place on alice (the nat rule: iptables -t nat -D OUTPUT ... with the rule iptables -t nat -S shows, and the program behind it), or start again with npx hurrynet lab 1 --reset; then curl -i http://web.bob.example/ again.",
  ],
  async run(ctx) {
    const probe = await ctx.probe('alice');
    const { address, result } = await resolveWith(probe, 'web.bob.example', f.router);
    if (!address) return fail('web.bob.example does not resolve through the home router', result.evidence);
    // A nonce in the path: Bob's access log must show this very request, from Alice's network.
    const token = `hurrynet-reach-${nonce()}`;
    const r = await http(probe, { url: `http://web.bob.example/?${token}`, resolveTo: address });
    if (r.status !== 200) return fail(`GET / answered ${r.status || 'nothing'}`, r.evidence);
    const seen = await accessEntriesWith(ctx.node('web'), token);
    if (!seen.entries.some((e) => e.client === f.alicePublic && e.status === 200)) {
      const why = await localStandIn(probe, address);
      return fail(
        `GET / was answered 200, but not by Bob's server: his access log has no such request from ${f.alicePublic}${why ? ` (${why})` : ''}`,
        r.evidence,
        seen.evidence,
      );
    }
    return pass(
      `GET / answered 200 OK, and Bob's access log shows the request arriving from ${f.alicePublic}`,
      r.evidence,
      seen.evidence,
    );
  },
});

const createCheck = (v: ClientServerVars, f: Facts): Check => ({
  id: 'create',
  title: `POST created the note "${v.title}"`,
  points: 2,
  hint: [
    `Bob's list of notes, /api/notes: a new note is made by a request to the list itself, not to one note's URL. The grader looks for a note with exactly the title and body on your task card, and for your request in Bob's access log.`,
    `curl -i http://web.bob.example/api/notes lists the notes. curl -X POST -H 'Content-Type: application/json' -d '{...}' sends JSON; the status line says how it went: 400 means the body was not understood, 405 that this URL does not take a POST (its Allow header names what it takes).`,
    `curl -i -X POST -H 'Content-Type: application/json' -d '{"title":"${v.title}","body":"${v.body}"}' http://web.bob.example/api/notes`,
  ],
  async run(ctx) {
    const s = await serverState(ctx);
    const note = s.notes?.find((n) => n.title === v.title);
    if (!note) return fail(`the server has no note titled "${v.title}"`, ...s.evidence);
    if (note.body !== v.body)
      return fail(`the note "${v.title}" has body "${note.body}", expected "${v.body}"`, ...s.evidence);
    if (note.id === v.updateId || note.id === v.deleteId)
      return fail(
        `the note titled "${v.title}" is Bob's note ${note.id}, renamed by a PUT; a POST must create a new one`,
        ...s.evidence,
      );
    if (!arrivedFrom(f.alicePublic, s.log, 'POST', /^\/api\/notes\/?$/, 201)) {
      return fail(
        `the note exists, but the server never got a successful POST from Alice's network (${f.alicePublic})`,
        ...s.evidence,
      );
    }
    return pass(`note ${note.id} "${v.title}" was created by a POST from ${f.alicePublic}`, ...s.evidence);
  },
});

const updateCheck = (v: ClientServerVars, f: Facts): Check => ({
  id: 'update',
  title: `PUT renamed note ${v.updateId} to "${v.newTitle}"`,
  points: 2,
  hint: [
    `Note ${v.updateId} at its own URL, /api/notes/${v.updateId}: its title must be rename_to from your task card, changed by a request to that URL (a new note with that title does not count).`,
    `curl -i http://web.bob.example/api/notes/${v.updateId} shows the note as it is now. A PUT sends the whole new version of it, as JSON with the same -H and -d as a POST, and replaces what was there.`,
    `curl -i -X PUT -H 'Content-Type: application/json' -d '{"title":"${v.newTitle}","body":"the body a GET shows"}' http://web.bob.example/api/notes/${v.updateId} (PUT replaces the whole note: leave out the body and the note keeps an empty one).`,
  ],
  async run(ctx) {
    const s = await serverState(ctx);
    const note = s.notes?.find((n) => n.id === v.updateId);
    if (!note) return fail(`note ${v.updateId} is gone; it should have been updated, not deleted`, ...s.evidence);
    if (note.title !== v.newTitle)
      return fail(`note ${v.updateId} is titled "${note.title}", expected "${v.newTitle}"`, ...s.evidence);
    if (!arrivedFrom(f.alicePublic, s.log, 'PUT', new RegExp(`^/api/notes/${v.updateId}$`), 200)) {
      return fail(
        `the server never got a successful PUT /api/notes/${v.updateId} from ${f.alicePublic}`,
        ...s.evidence,
      );
    }
    return pass(`note ${v.updateId} was renamed by a PUT from ${f.alicePublic}`, ...s.evidence);
  },
});

const deleteCheck = (v: ClientServerVars, f: Facts): Check => ({
  id: 'delete',
  title: `DELETE removed note ${v.deleteId}`,
  points: 2,
  hint: [
    `Bob's list of notes: note ${v.deleteId} must be gone from it, removed by a request from Alice's laptop that Bob's server answered with success.`,
    `curl -i http://web.bob.example/api/notes lists what is left; -X picks the method. In the status line a 2xx means done, 404 that there is no such note, 405 that the URL does not take that method (see its Allow header).`,
    `curl -i -X DELETE http://web.bob.example/api/notes/${v.deleteId}`,
  ],
  async run(ctx) {
    const s = await serverState(ctx);
    if (!s.notes) return fail('the server state could not be read', ...s.evidence);
    if (s.notes.some((n) => n.id === v.deleteId)) return fail(`note ${v.deleteId} still exists`, ...s.evidence);
    if (!arrivedFrom(f.alicePublic, s.log, 'DELETE', new RegExp(`^/api/notes/${v.deleteId}$`), 204)) {
      return fail(
        `note ${v.deleteId} is gone, but no successful DELETE for it came from ${f.alicePublic}`,
        ...s.evidence,
      );
    }
    return pass(`note ${v.deleteId} was deleted by a DELETE from ${f.alicePublic}`, ...s.evidence);
  },
});

const createdIdCheck = (v: ClientServerVars): Check => ({
  id: 'answer-created-id',
  title: 'answers.yaml: the id the server gave your new note',
  points: 1,
  hint: [
    "The reply to your own POST: the server chose the new note's id and said so. Bob's server has been counting for a while, so no example's id and no other learner's fits yours.",
    'curl -i shows the reply in full: the Location header (/api/notes/ID) and the "id" in the JSON body. curl -s http://web.bob.example/api/notes lists every note with its id.',
    `Find the note titled "${v.title}" in the list and write its id in /root/answers.yaml: created_id: ID.`,
  ],
  deadlineMs: 1500,
  async run(ctx) {
    const a = await createdIdAnswer(ctx, v.title);
    return a.ok
      ? pass(`answered created_id: ${a.id}, the id Bob's server gave the note "${v.title}"`, ...a.evidence)
      : fail(a.reason, ...a.evidence);
  },
});

const statusesCheck = (v: ClientServerVars, f: Facts): Check => ({
  id: 'answer-statuses',
  title: 'answers.yaml: the status codes of your POST and your DELETE',
  points: 1,
  hint: [
    "The status lines of Bob's replies to your successful POST and your successful DELETE, not to a failed try. They count together with created_id, from the same POST.",
    `curl -i prints the status line first ("HTTP/1.1 CODE REASON"); curl -s -o /dev/null -w '%{http_code}\\n' prints only the code.`,
    'In /root/answers.yaml: post_status: 201 (Created) and delete_status: 204 (No Content), beside the created_id of that same POST.',
  ],
  deadlineMs: 1500,
  async run(ctx) {
    const s = await serverState(ctx);
    const posted = arrivedFrom(f.alicePublic, s.log, 'POST', /^\/api\/notes\/?$/, 201);
    const deleted = s.log.some((e) => e.client === f.alicePublic && e.method === 'DELETE' && e.status === 204);
    const a = await createdIdAnswer(ctx, v.title);
    const answers = await ctx.answers();
    const file = answersEvidence(answers);
    if (!answers.ok) return fail(answers.error, file);
    if (!posted || !deleted)
      return fail(
        "the statuses cannot be judged yet: Bob's access log shows no successful POST and DELETE from Alice's network",
        file,
        ...s.evidence,
      );
    for (const [key, want, request] of [
      ['post_status', '201', 'POST'],
      ['delete_status', '204', 'DELETE'],
    ] as const) {
      const given = normalizeAnswer(answers.values[key]);
      if (!given) return fail(`answers.yaml misses "${key}"`, file);
      if (given !== want)
        return fail(
          `your ${key} (${JSON.stringify(String(answers.values[key]).trim())}) is not the status Bob's server answered your successful ${request}`,
          file,
          ...s.evidence,
        );
    }
    // The same codes answer every learner's POST and DELETE: they count with this world's id.
    if (!a.ok)
      return fail(
        `the status codes are right, but they count only together with the id your POST got: ${a.reason}`,
        ...a.evidence,
      );
    return pass(`answered post_status 201 and delete_status 204 for the POST that created note ${a.id}`, file);
  },
});

function checks(v: ClientServerVars, world: World): Check[] {
  const f = factsOf(world);
  return [
    reachCheck(f),
    createCheck(v, f),
    updateCheck(v, f),
    deleteCheck(v, f),
    createdIdCheck(v),
    statusesCheck(v, f),
  ];
}

export default defineLab<ClientServerVars>({
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
  vary,
  task: (v) => ({
    create_title: v.title,
    create_body: v.body,
    rename_note: `${v.updateId}`,
    rename_to: v.newTitle,
    delete_note: `${v.deleteId}`,
  }),
  faults,
  checks,
});
