// Small terminal helpers: colour only on a TTY (and never with NO_COLOR), aligned tables.

const useColour = (stream: NodeJS.WriteStream) => !!stream.isTTY && !process.env.NO_COLOR;

function wrap(code: number, stream: NodeJS.WriteStream = process.stdout) {
  return (text: string) => (useColour(stream) ? `\x1b[${code}m${text}\x1b[0m` : text);
}

export const bold = wrap(1);
export const dim = wrap(2);
export const green = wrap(32);
export const red = wrap(31);
export const yellow = wrap(33);
export const cyan = wrap(36);
export const errRed = wrap(31, process.stderr);
export const errDim = wrap(2, process.stderr);

const ANSI = /\x1b\[[0-9;]*m/g;
export function visibleLength(text: string): number {
  return text.replace(ANSI, '').length;
}

/** Left-aligned columns separated by two spaces. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(cell))));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleLength(cell))))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Progress lines go to stderr so that stdout stays clean for --json. */
export function progressPrinter(quiet = false): (message: string) => void {
  const started = Date.now();
  return (message: string) => {
    if (quiet) return;
    const t = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
    process.stderr.write(`${errDim(`[${t}s]`)} ${message}\n`);
  };
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** The warning a learner sees when the host could not be sealed from their lab (docs/seal.md). */
export function warnUnsealed(seal: { sealed: boolean; reason?: string } | undefined): void {
  if (!seal || seal.sealed) return;
  process.stderr.write(
    `${errRed('warning:')} the host is not sealed from this lab's bridges (${seal.reason ?? 'unknown reason'}). ` +
      `The lab works, but a root user in it could reach this machine's own services; see docs/seal.md ` +
      `or run "hurrynet doctor".\n`,
  );
}
