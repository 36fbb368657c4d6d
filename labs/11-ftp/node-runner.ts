// Runs a learner's FTP client from Alice's side of the network, in a throw-away sidecar in alice's
// network namespace: a TypeScript one with Node.js (Alice's laptop has none, so the sidecar is of
// the web image, Debian's Node.js, with basic-ftp copied in), a Python one with a clean python3
// (the sidecar is of alice's own image). The program sees exactly what alice sees: her address,
// her routes, her home router's NAT; nothing changed on her laptop (a python3 or an ftplib of
// the learner's own) is in the sidecar.
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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

/** The image a node of this instance runs (the one that exists, even if images/ has changed since the world started). */
async function imageOf(d: Driver, instance: string, node: 'web' | 'alice'): Promise<string> {
  return (await d.imageOf(containerName(instance, node))) ?? imageSet().roles[node];
}

/**
 * Starts a throw-away sidecar from a clean image in alice's network namespace, copies `files`
 * (paths inside the sidecar) into it, runs each command in turn until one fails, and removes it.
 */
async function runInSidecar(
  instance: string,
  image: 'web' | 'alice',
  files: Record<string, string>,
  commands: string[][],
  env: Record<string, string>,
  timeoutSeconds: number,
  workdir: string,
): Promise<NodeRun & { step: number }> {
  driver ??= new Driver();
  const local = mkdtempSync(join(tmpdir(), 'hurrynet-client-'));
  const name = `${PROJECT}-${instance}-probe-alice-${image === 'web' ? 'node' : 'py'}-${randomBytes(3).toString('hex')}`;
  const labels = Driver.projectLabels({ [LABEL.instance]: instance, [LABEL.kind]: 'probe', [LABEL.node]: 'alice' });
  try {
    for (const [path, text] of Object.entries(files)) {
      const at = join(local, path.replace(/^\//, ''));
      mkdirSync(dirname(at), { recursive: true });
      writeFileSync(at, text);
    }
    if (image === 'web')
      cpSync(
        join(projectRoot(), 'node_modules', 'basic-ftp'),
        join(local, APP_DIR.replace(/^\//, ''), 'node_modules', 'basic-ftp'),
        {
          recursive: true,
        },
      );
    await driver.startSidecar(
      name,
      containerName(instance, 'alice'),
      await imageOf(driver, instance, image),
      labels,
      120,
    );
    await driver.copyDir(name, local, '/');
    let last: NodeRun = { exitCode: 0, output: '' };
    for (const [step, cmd] of commands.entries()) {
      const r = await driver.exec(name, ['timeout', '-s', 'KILL', String(timeoutSeconds), ...cmd], {
        env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
        workdir,
        timeoutMs: (timeoutSeconds + 10) * 1000,
      });
      const output = (r.stdout + (r.stderr ? `\n${r.stderr}` : '')).trim();
      last = {
        exitCode: r.exitCode,
        output: r.exitCode === 137 ? `${output}\n(stopped after ${timeoutSeconds} s)` : output,
      };
      if (r.exitCode !== 0) return { ...last, step };
    }
    return { ...last, step: commands.length - 1 };
  } catch (err) {
    return { exitCode: -1, output: `the grader could not run the program: ${(err as Error).message}`, step: -1 };
  } finally {
    rmSync(local, { recursive: true, force: true });
    await driver.removeContainer(name).catch(() => undefined);
  }
}

/** Runs JavaScript (CommonJS) with basic-ftp available, in a Node.js sidecar sharing alice's network. */
export async function runOnAliceNetwork(
  instance: string,
  js: string,
  env: Record<string, string>,
  timeoutSeconds = 20,
): Promise<NodeRun> {
  const { exitCode, output } = await runInSidecar(
    instance,
    'web',
    { [`${APP_DIR}/client.cjs`]: js },
    [['node', `${APP_DIR}/client.cjs`]],
    env,
    timeoutSeconds,
    APP_DIR,
  );
  return { exitCode, output };
}

export const PY_DIR = '/opt/hurrynet-py';

/** A Python program's run: `syntax` holds the compiler's complaint when it is not valid Python. */
export interface PythonRun extends NodeRun {
  syntax?: string;
}

/**
 * Runs a Python program with a clean python3 (alice's image, so the same Python and ftplib as on
 * her laptop, but none of the changes made there) in a sidecar sharing alice's network. Isolated
 * mode (-I): no PYTHON* variables, no user site, not even the script's own folder on the path.
 */
export async function runPythonOnAliceNetwork(
  instance: string,
  source: string,
  env: Record<string, string>,
  timeoutSeconds = 20,
): Promise<PythonRun> {
  const file = `${PY_DIR}/ftp-client.py`;
  const compile = [
    'python3',
    '-I',
    '-c',
    'import sys\ntry:\n    compile(open(sys.argv[1], encoding="utf-8").read(), "ftp-client.py", "exec")\nexcept SyntaxError as e:\n    print(f"line {e.lineno}: {e.msg}")\n    sys.exit(3)',
    file,
  ];
  const r = await runInSidecar(
    instance,
    'alice',
    { [file]: source },
    [compile, ['python3', '-I', file]],
    { ...env, PYTHONUNBUFFERED: '1' },
    timeoutSeconds,
    PY_DIR,
  );
  if (r.step === 0 && r.exitCode === 3) return { exitCode: r.exitCode, output: r.output, syntax: r.output };
  return { exitCode: r.exitCode, output: r.output };
}
