/**
 * Unified social credit codes (统一社会信用代码) by GB 32100-2015: 18 characters from a
 * 31-character alphabet that leaves out I, O, S, V and Z (too easily read as 1, 0, 5,
 * U and 2), the last one a check character over the first 17.
 *
 * Only the alphabet and the check character are enforced here. The code's inner
 * structure (registering authority, category, region, organisation code) is not:
 * the registries that issued it are the authority on whether it exists.
 */

export type Uscc = { ok: true; value: string };
export type UsccRejection = { ok: false; reason: 'format' | 'checksum' };

/** Position in this string is the character's value, 0..30. */
export const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const SHAPE = new RegExp(`^[${USCC_ALPHABET}]{18}$`);
/** 3^(i-1) mod 31 for i = 1..17, as the standard tabulates them. */
const WEIGHTS = Array.from({ length: 17 }, (_, i) => modPow(3, i, 31));

/** The check character for the first 17 characters, which must be in the alphabet. */
export function usccCheckCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += USCC_ALPHABET.indexOf(first17[i]!) * WEIGHTS[i]!;
  return USCC_ALPHABET[(31 - (sum % 31)) % 31]!;
}

/** Input is NFKC-normalised, trimmed and upper-cased; `value` is that normal form. */
export function parseUscc(input: string): Uscc | UsccRejection {
  const value = input.normalize('NFKC').trim().toUpperCase();
  if (!SHAPE.test(value)) return { ok: false, reason: 'format' };
  if (usccCheckCharacter(value) !== value[17]) return { ok: false, reason: 'checksum' };
  return { ok: true, value };
}

function modPow(base: number, exponent: number, modulus: number): number {
  let result = 1;
  for (let i = 0; i < exponent; i++) result = (result * base) % modulus;
  return result;
}
