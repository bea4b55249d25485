import { COMMON_PASSWORDS } from './common-passwords.js';
import { parseIdNumber } from './id-number.js';
import { normalisePhone } from './phone.js';

/**
 * What we ask of a new password, after NIST SP 800-63B: long enough, not a known
 * first guess, and not built from the personal data an attacker who knows the person
 * would try first (the ID number and phone are on every form they have filled in).
 * No composition rules ("one upper-case, one symbol"): they make passwords harder to
 * remember, not harder to guess.
 */

export const MIN_PASSWORD_LENGTH = 8;
/** Long enough for any passphrase; short enough that hashing it costs nothing extra. */
export const MAX_PASSWORD_LENGTH = 128;
/** A personal fragment shorter than this would refuse too much by chance. */
const MIN_FRAGMENT_LENGTH = 6;

export type PasswordContext = {
  idNumber?: string;
  phone?: string;
  /** YYYY-MM-DD */
  birthDate?: string;
};

export type PasswordAccepted = { ok: true; normalised: string };
export type PasswordRejection = { ok: false; reason: 'too_short' | 'too_long' | 'common' | 'contains_personal_data' };

/**
 * On success, `normalised` is what to hash: NFKC makes the full-width digits of a
 * phone keyboard and their ASCII forms one password, so a person can log in from
 * either keyboard. Length is counted in code points, so 8 Chinese characters are 8.
 */
export function checkPassword(password: string, context: PasswordContext = {}): PasswordAccepted | PasswordRejection {
  const normalised = password.normalize('NFKC');
  const length = Array.from(normalised).length;
  if (length < MIN_PASSWORD_LENGTH) return { ok: false, reason: 'too_short' };
  if (length > MAX_PASSWORD_LENGTH) return { ok: false, reason: 'too_long' };

  const folded = normalised.toLowerCase();
  if (COMMON_PASSWORDS.has(folded)) return { ok: false, reason: 'common' };
  if (personalFragments(context).some((fragment) => folded.includes(fragment))) {
    return { ok: false, reason: 'contains_personal_data' };
  }
  return { ok: true, normalised };
}

/**
 * Lower-cased substrings a password must not contain; only for the data we were given.
 * Each rule is kept by its shortest fragment, which every longer one contains: the
 * ID number's last 6 (so also its last 8 and the whole number), the phone's last 8
 * (so also the whole phone), and the birth date's YYMMDD (so also YYYYMMDD) and
 * YYYY-MM-DD.
 */
function personalFragments(context: PasswordContext): string[] {
  const fragments: string[] = [];

  const idNumber = context.idNumber?.normalize('NFKC').trim().toLowerCase();
  if (idNumber) fragments.push(idNumber.slice(-6));

  const phone = context.phone === undefined ? undefined : (normalisePhone(context.phone) ?? digitsOf(context.phone));
  if (phone) fragments.push(phone.slice(-8));

  // The birth date is inside the ID number, so it is personal data even when the
  // caller did not pass it separately.
  let birthDate = context.birthDate?.trim();
  if (!birthDate && context.idNumber) {
    const parsed = parseIdNumber(context.idNumber);
    if (parsed.ok) birthDate = parsed.birthDate;
  }
  const date = birthDate ? /^(\d{2})(\d{2})-(\d{2})-(\d{2})$/.exec(birthDate) : null;
  if (date) {
    const [, century, year, month, day] = date;
    fragments.push(`${year}${month}${day}`, `${century}${year}-${month}-${day}`);
  }

  return fragments.filter((fragment) => Array.from(fragment).length >= MIN_FRAGMENT_LENGTH);
}

function digitsOf(value: string): string {
  return value.normalize('NFKC').replace(/\D+/g, '');
}
