import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import argon2 from 'argon2';
import { Slots } from '../slots.js';

/**
 * Password hashing with argon2id at OWASP's first recommended setting (19 MiB, two
 * passes, one lane). Hashes are PHC strings that carry their own parameters, so a
 * hash made under older parameters still verifies, and `needsRehash` tells the login
 * flow to replace it while the plaintext is at hand.
 *
 * Both sides NFKC-normalise (as `checkPassword` does), so a password typed on a
 * full-width keyboard verifies against one set on an ASCII one; for the `normalised`
 * output of `checkPassword` this changes nothing.
 */

/**
 * argon2 runs on libuv's thread pool, which WebCrypto signing (every ID token and JWT
 * access token), file reads and DNS share. Unbounded, a login peak fills every pool
 * thread with 20–35 ms hashes and token requests queue behind them. At most one hash per
 * core runs at once; the rest wait here, in order. This also bounds argon2's memory to
 * slots × 19 MiB however many logins arrive together.
 */
// libuv's pool has four threads by default: argon2 never takes the last one.
export const ARGON2_THREADS = Math.max(1, Math.min(availableParallelism(), 3));
const argon2Slots = new Slots(ARGON2_THREADS);

export const PASSWORD_HASH_PARAMETERS = Object.freeze({ memoryCost: 19_456, timeCost: 2, parallelism: 1 });
const ARGON2_VERSION = 0x13;

/**
 * A stored hash asking for more than this is refused rather than computed: a
 * corrupted or planted row must not be able to make one login cost a gigabyte.
 * The limits leave room for every OWASP setting and a few generations of upgrades.
 */
export const VERIFY_LIMITS = Object.freeze({ memoryCost: 128 * 1024, timeCost: 10, parallelism: 8 });
const ARGON2_TYPES = new Set(['argon2id', 'argon2i', 'argon2d']);
const PARAMETER_ORDER = ['m', 't', 'p', 'keyid', 'data'];
const B64 = /^[A-Za-z0-9+/]+$/;

/**
 * node-argon2 0.45 writes its parameters as m,p,t (ranisalt/node-argon2#559), but the
 * PHC string format and the reference implementation require m,t,p, and strict
 * readers such as libsodium refuse anything else. We write the standard order, so
 * our hashes stay portable to any other implementation we may move to.
 */
export async function hashPassword(normalised: string): Promise<string> {
  const hash = await argon2Slots.run(() => argon2.hash(normalised.normalize('NFKC'), { type: argon2.argon2id, ...PASSWORD_HASH_PARAMETERS }));
  return inStandardOrder(hash);
}

/** False for a wrong password and for a stored hash that is not one we can check; never throws. */
export async function verifyPassword(hash: string, candidate: string): Promise<boolean> {
  const parameters = readParameters(hash);
  if (
    !parameters ||
    parameters.memoryCost > VERIFY_LIMITS.memoryCost ||
    parameters.timeCost > VERIFY_LIMITS.timeCost ||
    parameters.parallelism > VERIFY_LIMITS.parallelism
  ) {
    return false;
  }
  try {
    return await argon2Slots.run(() => argon2.verify(hash, candidate.normalize('NFKC')));
  } catch {
    return false;
  }
}

/**
 * True when the hash was not made with argon2id at the current parameters. A hash
 * we cannot read also needs replacing, though no password will verify against it.
 */
export function needsRehash(hash: string): boolean {
  const parameters = readParameters(hash);
  return (
    !parameters ||
    parameters.type !== 'argon2id' ||
    parameters.version !== ARGON2_VERSION ||
    parameters.memoryCost !== PASSWORD_HASH_PARAMETERS.memoryCost ||
    parameters.timeCost !== PASSWORD_HASH_PARAMETERS.timeCost ||
    parameters.parallelism !== PASSWORD_HASH_PARAMETERS.parallelism
  );
}

let dummyHash: Promise<string> | undefined;

/**
 * A hash of a random password nobody knows, for verifying against when the account
 * does not exist: the answer is always false, and it takes as long as a real check,
 * so timing does not tell an unknown ID number or phone from a wrong password.
 * `await DUMMY_HASH` gives the string; it is computed on first use, once per process.
 */
export const DUMMY_HASH: PromiseLike<string> = {
  then(onFulfilled, onRejected) {
    dummyHash ??= hashPassword(randomBytes(32).toString('base64url')).catch((error: unknown) => {
      dummyHash = undefined; // let the next caller try again rather than fail forever
      throw error;
    });
    return dummyHash.then(onFulfilled, onRejected);
  },
};

type HashParameters = { type: string; version: number; memoryCost: number; timeCost: number; parallelism: number };

/**
 * The parts of a stored `$argon2id$v=19$m=…,t=…,p=…$salt$hash` string, or null when it
 * is not one. Parameters are accepted in any order: hashes written by node-argon2
 * itself (m,p,t) must keep verifying.
 */
function readParameters(hash: string): HashParameters | null {
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== '') return null;
  const [, type, versionPart, parameterPart, salt, digest] = parts as [string, string, string, string, string, string];
  const version = /^v=(\d{1,3})$/.exec(versionPart)?.[1];
  const parameters = parseParameterList(parameterPart);
  if (!ARGON2_TYPES.has(type) || !version || !parameters || !B64.test(salt) || !B64.test(digest)) return null;
  const m = parameters.get('m');
  const t = parameters.get('t');
  const p = parameters.get('p');
  if (!m || !t || !p || !/^\d{1,10}$/.test(m) || !/^\d{1,10}$/.test(t) || !/^\d{1,10}$/.test(p)) return null;
  return { type, version: Number(version), memoryCost: Number(m), timeCost: Number(t), parallelism: Number(p) };
}

function parseParameterList(text: string): Map<string, string> | null {
  const parameters = new Map<string, string>();
  for (const pair of text.split(',')) {
    const match = /^([a-z]+)=([A-Za-z0-9+/.-]+)$/.exec(pair);
    if (!match || parameters.has(match[1]!)) return null;
    parameters.set(match[1]!, match[2]!);
  }
  return parameters;
}

function inStandardOrder(hash: string): string {
  const parts = hash.split('$');
  const parameters = parts.length === 6 ? parseParameterList(parts[3]!) : null;
  if (!parameters || [...parameters.keys()].some((key) => !PARAMETER_ORDER.includes(key))) {
    throw new Error('argon2 produced a hash in an unexpected format');
  }
  parts[3] = PARAMETER_ORDER.filter((key) => parameters.has(key))
    .map((key) => `${key}=${parameters.get(key)}`)
    .join(',');
  return parts.join('$');
}
