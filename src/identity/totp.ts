import { randomInt } from 'node:crypto';
import { generateSecret, generateURI, verify } from 'otplib';

/**
 * Time-based one-time passwords (RFC 6238) as a second factor, in the one shape every
 * authenticator app understands: SHA-1, six digits, a 30-second step, a base32 secret
 * of 20 random bytes. Plus the recovery codes handed out when a person enrols.
 */

export const TOTP_ISSUER = '统一身份认证平台';
const PERIOD_SECONDS = 30;
const DIGITS = 6;
const ALGORITHM = 'sha1';
/** One step either side: a phone clock a little off, or a code typed as it rolled over. */
const TOLERANCE_STEPS = 1;

/** 20 random bytes (160 bits, the size RFC 4226 recommends for SHA-1), base32 without padding. */
export function createTotpSecret(): string {
  return generateSecret({ length: 20 });
}

/**
 * The otpauth:// URI an authenticator app scans. The label is shown in the app next
 * to the issuer; pass something the person recognises but that is not personal data
 * in clear (a masked phone, for example). A colon would split the label into
 * issuer and account, so it is replaced.
 */
export function otpauthUri(options: { secret: string; accountLabel: string; issuer?: string }): string {
  return generateURI({
    issuer: options.issuer ?? TOTP_ISSUER,
    label: options.accountLabel.replaceAll(':', '_'),
    secret: options.secret,
    algorithm: ALGORITHM,
    digits: DIGITS,
    period: PERIOD_SECONDS,
  });
}

export type TotpVerified = { ok: true; step: number };
export type TotpRefused = { ok: false };

/**
 * Accepts a code for the previous, current or next step, except a step at or before
 * `lastUsedStep`: a code, once used, is spent, and so is every older one. Store the
 * returned `step` as the account's new `lastUsedStep` (atomically, so two parallel
 * uses of one code cannot both pass). `now` (ms since the epoch) is for tests.
 *
 * A malformed token is refused; a malformed secret throws, since it is our data.
 */
export async function verifyTotp(options: {
  secret: string;
  token: string;
  lastUsedStep?: number;
  now?: number;
}): Promise<TotpVerified | TotpRefused> {
  const token = options.token.normalize('NFKC').replace(/\s+/g, '');
  if (!/^\d{6}$/.test(token)) return { ok: false };

  const epoch = Math.floor((options.now ?? Date.now()) / 1000);
  const newestStep = Math.floor(epoch / PERIOD_SECONDS) + TOLERANCE_STEPS;
  const lastUsedStep = options.lastUsedStep === undefined ? undefined : Math.floor(options.lastUsedStep);
  // otplib throws when asked to skip past its whole window; here that simply means
  // every acceptable step is spent.
  if (lastUsedStep !== undefined && lastUsedStep >= newestStep) return { ok: false };

  const result = await verify({
    secret: options.secret,
    token,
    algorithm: ALGORITHM,
    digits: DIGITS,
    period: PERIOD_SECONDS,
    epoch,
    epochTolerance: TOLERANCE_STEPS * PERIOD_SECONDS,
    ...(lastUsedStep !== undefined && lastUsedStep >= 0 ? { afterTimeStep: lastUsedStep } : {}),
  });
  if (!result.valid || !('timeStep' in result)) return { ok: false };
  return { ok: true, step: result.timeStep };
}

/** No 0/O, 1/I/L: a code read off paper must not be misread. */
export const RECOVERY_CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const RECOVERY_CODE_COUNT = 10;
const RECOVERY_CODE_HALF = 4;

/**
 * Ten distinct one-use codes like 7KQ2-M9XD (about 40 bits each). Show them once;
 * store only a hash of each code's `normaliseRecoveryCode` form. `randomBelow` is
 * for tests, which need to force a repeat; everyone else keeps the CSPRNG.
 */
export function generateRecoveryCodes(randomBelow: (limit: number) => number = randomInt): string[] {
  const codes = new Set<string>();
  while (codes.size < RECOVERY_CODE_COUNT) codes.add(`${randomChunk(randomBelow)}-${randomChunk(randomBelow)}`);
  return [...codes];
}

/** What a person typed, in the form codes are hashed and compared in: 7kq2 m9xd → 7KQ2M9XD. */
export function normaliseRecoveryCode(input: string): string {
  return input.normalize('NFKC').toUpperCase().replace(/[\s-]+/g, '');
}

function randomChunk(randomBelow: (limit: number) => number): string {
  let chunk = '';
  for (let i = 0; i < RECOVERY_CODE_HALF; i++) chunk += RECOVERY_CODE_ALPHABET[randomBelow(RECOVERY_CODE_ALPHABET.length)];
  return chunk;
}
