// Ctrl-C handling for long operations: the first interrupt aborts cleanly, the second exits.
import { EXIT } from '../errors.js';
import { errRed } from './ui.js';

export { EXIT };

/** Runs fn with an AbortSignal that Ctrl-C (or SIGTERM) fires once; a second Ctrl-C exits at once. */
export async function interruptible<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let count = 0;
  const onSignal = () => {
    count++;
    if (count === 1) {
      process.stderr.write(
        `\n${errRed('interrupted')}: removing what was started (Ctrl-C again to quit at once; "hurrynet clean" tidies up later)\n`,
      );
      controller.abort();
    } else {
      process.exit(EXIT.interrupted);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
