// Nonces: a value only this check run can know, so that evidence found later is this run's own.
import { randomBytes } from 'node:crypto';

/** A fresh random hex string (4 bytes: 8 characters by default). */
export function nonce(bytes = 4): string {
  return randomBytes(bytes).toString('hex');
}
