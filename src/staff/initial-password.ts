import { randomInt } from 'node:crypto';
import { checkPassword, type PasswordContext } from '../identity/password-policy.js';

/** Letters and digits that cannot be misread on paper (no 0/O, 1/l/I). */
const ALPHABET = '23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ';
const GROUPS = 3;
const GROUP_LENGTH = 4;

/**
 * A password set by staff and handed over once (printed at the counter, shown to a new
 * colleague): three groups of four, about 70 bits, e.g. `k7Hq-2mTx-9PdR`. It passes the
 * password policy for the person it is for; they must change it at first use.
 */
export function initialPassword(context: PasswordContext = {}, random: (limit: number) => number = randomInt): string {
  for (;;) {
    const groups = Array.from({ length: GROUPS }, () => Array.from({ length: GROUP_LENGTH }, () => ALPHABET[random(ALPHABET.length)]).join(''));
    const candidate = groups.join('-');
    if (checkPassword(candidate, context).ok) return candidate;
  }
}
