import type { KeyedDigest } from '../crypto/digest.js';
import type { FieldCipher } from '../crypto/field-cipher.js';
import { normalName } from './person-name.js';

/** The kinds of personal data we hold; each has its own encryption context and index purpose. */
export type PersonalDatum =
  | 'id_number' | 'name' | 'phone' | 'address' | 'totp_secret'
  | 'social_security_card' | 'bank_card' | 'housing_fund' | 'driving_licence';

/**
 * Personal data at rest (DESIGN.md §4): encrypted with the data key, bound to its kind,
 * and looked up by a keyed blind index of the normalised value, never by the value.
 */
export class PersonalData {
  constructor(private readonly cipher: FieldCipher, private readonly digest: KeyedDigest) {}

  seal(kind: PersonalDatum, value: string): string {
    return this.cipher.encrypt(value, `personal:${kind}`);
  }

  open(kind: PersonalDatum, sealed: string): string {
    return this.cipher.decrypt(sealed, `personal:${kind}`);
  }

  openOptional(kind: PersonalDatum, sealed: string | null | undefined): string | undefined {
    return sealed ? this.open(kind, sealed) : undefined;
  }

  /** A keyed digest of a secret the account holds (recovery codes): checkable, not recoverable. */
  secretDigest(purpose: string, value: string): string {
    return this.digest.digest(`secret:${purpose}`, value);
  }

  /**
   * A keyed digest that names a person as a stranger would describe them (a name with the
   * region and birth date of an ID number), for limits on guessing: never stored with data.
   */
  guessIndex(idNumber: string, name: string): string {
    return this.digest.digest('guess:person', `${idNumber.slice(0, 14)}\0${normalName(name)}`);
  }

  /** Values must already be normalised (upper-case ID, 11-digit phone, digits-only card). */
  index(kind: PersonalDatum, normalised: string): string {
    return this.digest.digest(`blind-index:${kind}`, normalised);
  }
}
