import { randomInt } from 'node:crypto';
import { checkPassword, type PasswordContext } from '../identity/password-policy.js';

/**
 * Lower-case letters and digits that cannot be misread on paper (no 0/o, 1/l/i): typed on
 * a phone without switching case, which an elderly person handed the sheet may not know how to do.
 */
const ALPHABET = '23456789abcdefghjkmnpqrstuvwxyz';
export const INITIAL_PASSWORD_GROUP = 4;
const LENGTH = 12;

/**
 * A password set by staff and handed over once (printed at the counter, shown to a new
 * colleague): twelve characters, about 59 bits, e.g. `k7hq2mtx9pdr`, printed in groups of
 * four for reading but typed without spaces. It passes the password policy for the person
 * it is for; they must change it at first use.
 */
export function initialPassword(context: PasswordContext = {}, random: (limit: number) => number = randomInt): string {
  for (;;) {
    const candidate = Array.from({ length: LENGTH }, () => ALPHABET[random(ALPHABET.length)]).join('');
    if (checkPassword(candidate, context).ok) return candidate;
  }
}
