// class.yaml: who is in the class and which labs are open to them. Parsing is pure (text in, a
// Class or a list of problems out, each with file:line) so that a teacher sees every mistake at
// once; loadClassFile adds the file and the lab registry.
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { UsageError } from '../errors.js';
import { defaultSeed, loadLabs } from '../labs/lab.js';

/** A learner's instance is `class-<id>`; instance names are at most 24 characters (plan.ts). */
export const INSTANCE_PREFIX = 'class-';
export const LEARNER_ID = /^[a-z][a-z0-9-]{0,17}$/;

export interface Learner {
  id: string;
  name: string;
  /** The lab variation the learner gets; absent: derived from the id (defaultSeed). */
  seed?: string;
}

export interface ClassSpec {
  name: string;
  /** Lab ids ("01", "03"), in the course's order. */
  labs: string[];
  learners: Learner[];
}

/** What the registry says about a lab, enough to resolve "3", "03", "dns" or "03-dns". */
export interface KnownLab {
  id: string;
  slug: string;
}

export class ClassFileError extends UsageError {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file} is not a valid class file:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export function instanceOf(learnerId: string): string {
  return `${INSTANCE_PREFIX}${learnerId}`;
}

/** The lab variation a learner gets: their own seed from class.yaml, else one derived from their id. */
export function learnerSeed(l: { id: string; seed?: string | null }): string {
  return l.seed ?? defaultSeed(l.id);
}

/** The teacher's own world is the instance of this id: no learner may have it. */
export const TEACHER_ID = 'teacher';

/** Why a learner id is refused, or undefined when it is fine. */
export function learnerIdProblem(id: string): string | undefined {
  if (id === TEACHER_ID)
    return `learner id "${id}" is taken: ${INSTANCE_PREFIX}${id} is the teacher's own world; choose another`;
  if (LEARNER_ID.test(id)) return undefined;
  return `learner id "${id}" must be 1-18 lowercase letters, digits or dashes, starting with a letter (it names the instance ${INSTANCE_PREFIX}<id>)`;
}

/** A lab as class.yaml names it, resolved against the registry (undefined: no such lab). */
export function resolveLab(query: string, known: KnownLab[]): string | undefined {
  const q = query.trim().toLowerCase();
  return known.find((l) => (/^\d+$/.test(q) && Number(q) === Number(l.id)) || l.slug === q || `${l.id}-${l.slug}` === q)
    ?.id;
}

/** Parses class.yaml's text; throws ClassFileError with every problem found. */
export function parseClassFile(text: string, file: string, known: KnownLab[]): ClassSpec {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const problems: string[] = [];
  const at = (node: Node | null | undefined) => `${file}:${node?.range ? lines.linePos(node.range[0]).line : 1}`;
  // linePos is only set with prettyErrors: the offset is always there.
  for (const e of doc.errors) problems.push(`${file}:${lines.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`);
  if (problems.length) throw new ClassFileError(file, problems);
  const root = doc.contents;
  if (!isMap(root)) throw new ClassFileError(file, [`${at(root)}: expected a map with "labs:" and "learners:"`]);

  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!['name', 'labs', 'learners'].includes(key))
      problems.push(`${at(pair.key as Node)}: unknown key "${key}" (expected name, labs, learners)`);
  }
  const nameNode = root.get('name', true);
  // `name:` with nothing after it is null: the default name, not "null".
  const name = isScalar(nameNode)
    ? String(nameNode.value ?? '').trim() || 'class'
    : nameNode === undefined
      ? 'class'
      : '';
  if (nameNode !== undefined && !isScalar(nameNode)) problems.push(`${at(nameNode)}: name must be text`);

  const labs: string[] = [];
  const labsNode = root.get('labs', true);
  if (!isSeq(labsNode) || !labsNode.items.length)
    problems.push(`${at(labsNode ?? root)}: "labs:" must list the labs open to the class, such as [1, 2, dns]`);
  else
    for (const item of labsNode.items) {
      const q = isScalar(item) ? String(item.value) : '';
      const id = resolveLab(q, known);
      if (!id)
        problems.push(
          `${at(item as Node)}: unknown lab "${q}" (the labs are ${known.map((l) => `${l.id} ${l.slug}`).join(', ')})`,
        );
      else if (labs.includes(id)) problems.push(`${at(item as Node)}: lab ${id} is listed twice`);
      else labs.push(id);
    }

  const learners: Learner[] = [];
  const learnersNode = root.get('learners', true);
  if (!isSeq(learnersNode))
    problems.push(`${at(learnersNode ?? root)}: "learners:" must be a list of { id, name, seed? }`);
  else
    for (const item of learnersNode.items) {
      if (!isMap(item)) {
        problems.push(`${at(item as Node)}: each learner is a map such as { id: ada, name: Ada Lovelace }`);
        continue;
      }
      // Text or a number; a list, a map or a boolean is the wrong type (and reads as '').
      const wrongType: string[] = [];
      const field = (k: string) => {
        const n = item.get(k, true);
        if (n === undefined) return undefined;
        if (isScalar(n) && (n.value === null || typeof n.value === 'string' || typeof n.value === 'number'))
          return String(n.value ?? '');
        wrongType.push(k);
        return '';
      };
      for (const pair of item.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : '';
        if (!['id', 'name', 'seed'].includes(key))
          problems.push(`${at(pair.key as Node)}: unknown learner key "${key}" (expected id, name, seed)`);
      }
      const id = field('id');
      const idProblem =
        id === undefined
          ? 'a learner has no id'
          : wrongType.includes('id')
            ? 'a learner id must be text, such as ada'
            : learnerIdProblem(id);
      if (idProblem) problems.push(`${at(item)}: ${idProblem}`);
      else if (learners.some((l) => l.id === id)) problems.push(`${at(item)}: learner "${id}" is listed twice`);
      const seed = field('seed');
      if (seed !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(seed))
        problems.push(`${at(item)}: seed of "${id ?? ''}" must be 1-64 letters, digits, dots, dashes or underscores`);
      const display = (field('name') ?? id ?? '').trim();
      if (wrongType.includes('name')) problems.push(`${at(item)}: name of "${id ?? ''}" must be text`);
      if (display.length > 100) problems.push(`${at(item)}: name of "${id ?? ''}" is longer than 100 characters`);
      if (!idProblem && id) learners.push({ id, name: display || id, ...(seed ? { seed } : {}) });
    }
  if (problems.length) throw new ClassFileError(file, problems);
  return { name, labs, learners };
}

export async function loadClassFile(file: string): Promise<ClassSpec> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the class file ${file}: ${(err as Error).message}`);
  }
  const known = (await loadLabs()).map((l) => ({ id: l.id, slug: l.slug }));
  return parseClassFile(text, file, known);
}
