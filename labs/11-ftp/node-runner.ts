// Runs a learner's TypeScript program with Node.js from Alice's side of the network. Alice's laptop
// has no Node.js, so the grader starts a throw-away sidecar from the web image (Debian's Node.js)
// in alice's network namespace, copies the transpiled program and basic-ftp into it, runs it with
// the given environment, and removes the sidecar. The program sees exactly what alice sees: her
// address, her routes, her home router's NAT.
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Driver } from '../../orchestrator/runtime/driver.js';
import { imageSet } from '../../orchestrator/runtime/images.js';
import { projectRoot } from '../../orchestrator/runtime/paths.js';
import { containerName, LABEL, PROJECT } from '../../orchestrator/runtime/plan.js';

export const APP_DIR = '/opt/hurrynet-ts';

export interface TranspileResult {
  ok: boolean;
  js: string;
  errors: string[];
}

/** TypeScript to CommonJS JavaScript, types stripped (no type checking: Node would not do it either). */
export async function transpile(source: string, fileName = 'ftp-client.ts'): Promise<TranspileResult> {
  const ts = (await import('typescript')).default;
  const out = ts.transpileModule(source, {
    fileName,
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020, esModuleInterop: true },
  });
  const errors = (out.diagnostics ?? []).map((d) => {
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
    return `${where ? `line ${where.line + 1}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
  return { ok: errors.length === 0, js: out.outputText, errors };
}

export interface NodeRun {
  exitCode: number;
  output: string;
}

let driver: Driver | undefined;

/** The image Bob's web server runs in this instance (Debian's Node.js): the one that exists, even if
 * images/web has changed since the world started. */
async function nodeImage(d: Driver, instance: string): Promise<string> {
  const web = containerName(instance, 'web');
  const found = (await d.listContainers(Driver.projectLabels())).find((c) => c.name === web);
  return found?.image ?? imageSet().roles.web;
}

/** Runs JavaScript (CommonJS) with basic-ftp available, in a Node.js sidecar sharing alice's network. */
export async function runOnAliceNetwork(
  instance: string,
  js: string,
  env: Record<string, string>,
  timeoutSeconds = 20,
): Promise<NodeRun> {
  driver ??= new Driver();
  const local = mkdtempSync(join(tmpdir(), 'hurrynet-ts-'));
  const app = join(local, APP_DIR.replace(/^\//, ''));
  mkdirSync(join(app, 'node_modules'), { recursive: true });
  writeFileSync(join(app, 'client.cjs'), js);
  cpSync(join(projectRoot(), 'node_modules', 'basic-ftp'), join(app, 'node_modules', 'basic-ftp'), { recursive: true });
  const name = `${PROJECT}-${instance}-probe-alice-node-${randomBytes(3).toString('hex')}`;
  const labels = Driver.projectLabels({ [LABEL.instance]: instance, [LABEL.kind]: 'probe', [LABEL.node]: 'alice' });
  try {
    await driver.startSidecar(name, containerName(instance, 'alice'), await nodeImage(driver, instance), labels, 120);
    await driver.copyDir(name, local, '/');
    const r = await driver.exec(
      name,
      ['timeout', '-s', 'KILL', String(timeoutSeconds), 'node', `${APP_DIR}/client.cjs`],
      {
        env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
        workdir: APP_DIR,
        timeoutMs: (timeoutSeconds + 10) * 1000,
      },
    );
    const output = (r.stdout + (r.stderr ? `\n${r.stderr}` : '')).trim();
    return {
      exitCode: r.exitCode,
      output: r.exitCode === 137 ? `${output}\n(stopped after ${timeoutSeconds} s)` : output,
    };
  } catch (err) {
    return { exitCode: -1, output: `the grader could not run the program: ${(err as Error).message}` };
  } finally {
    rmSync(local, { recursive: true, force: true });
    await driver.removeContainer(name).catch(() => undefined);
  }
}
