import { ARGON2_THREADS, hashPassword, PASSWORD_HASH_PARAMETERS, verifyPassword } from '../../src/identity/password-hash.js';
import { BENCH_PASSWORD } from '../lib/people.js';

export interface Argon2Ceiling {
  verifies_per_s: number;
  mean_ms: number;
  /** Verifications running at once: as many as the server lets argon2 use (ARGON2_THREADS). */
  threads: number;
  parameters: typeof PASSWORD_HASH_PARAMETERS;
}

/**
 * The password-login ceiling: argon2id verifications per second with the configured
 * parameters and the app's own verify function, on as many threads at once as the server
 * gives argon2 (`ARGON2_THREADS`: one per core, three at most). A login needs exactly one,
 * so no login path on this machine can beat this; a ceiling on fewer threads than the
 * server uses would let the ratio exceed 1 by construction.
 */
export async function argon2Ceiling(seconds: number, threads = ARGON2_THREADS): Promise<Argon2Ceiling> {
  const hash = await hashPassword(BENCH_PASSWORD);
  for (let i = 0; i < 3; i += 1) await verifyPassword(hash, BENCH_PASSWORD);
  const started = performance.now();
  const until = started + seconds * 1000;
  let count = 0;
  let busyMs = 0;
  await Promise.all(Array.from({ length: threads }, async () => {
    while (performance.now() < until) {
      const one = performance.now();
      if (!(await verifyPassword(hash, BENCH_PASSWORD))) throw new Error('argon2 ceiling: the password did not verify');
      busyMs += performance.now() - one;
      count += 1;
    }
  }));
  const elapsed = performance.now() - started;
  return { verifies_per_s: (count * 1000) / elapsed, mean_ms: busyMs / count, threads, parameters: PASSWORD_HASH_PARAMETERS };
}
