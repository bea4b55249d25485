import { hashPassword, PASSWORD_HASH_PARAMETERS, verifyPassword } from '../../src/identity/password-hash.js';
import { BENCH_PASSWORD } from '../lib/people.js';

export interface Argon2Ceiling {
  verifies_per_s: number;
  mean_ms: number;
  parameters: typeof PASSWORD_HASH_PARAMETERS;
}

/**
 * The password-login ceiling: argon2id verifications per second, one after another (one
 * thread busy at a time), with the configured parameters and the app's own verify
 * function. A login needs exactly one, so no login path can beat this per thread.
 */
export async function argon2Ceiling(seconds: number): Promise<Argon2Ceiling> {
  const hash = await hashPassword(BENCH_PASSWORD);
  for (let i = 0; i < 3; i += 1) await verifyPassword(hash, BENCH_PASSWORD);
  const started = performance.now();
  const until = started + seconds * 1000;
  let count = 0;
  while (performance.now() < until) {
    if (!(await verifyPassword(hash, BENCH_PASSWORD))) throw new Error('argon2 ceiling: the password did not verify');
    count += 1;
  }
  const elapsed = performance.now() - started;
  return { verifies_per_s: (count * 1000) / elapsed, mean_ms: elapsed / count, parameters: PASSWORD_HASH_PARAMETERS };
}
