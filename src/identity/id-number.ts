/**
 * Citizen ID numbers (公民身份号码) by GB 11643-1999: a six-digit region code, an
 * eight-digit birth date, a three-digit sequence whose last digit gives the gender,
 * and a check character by ISO 7064 MOD 11-2. Only the 18-character form is accepted:
 * the 15-digit first-generation numbers expired in 2013.
 *
 * This is the first gate for any ID number we are given: nothing is looked up,
 * encrypted or blind-indexed before it has parsed here, and the parsed `value` is the
 * one normal form those indexes are built from.
 */

export type IdNumber = {
  ok: true;
  /** Trimmed, with the check character upper-cased: the only form we store or index. */
  value: string;
  /** YYYY-MM-DD */
  birthDate: string;
  gender: 'male' | 'female';
  regionCode: string;
};

export type IdNumberRejection = { ok: false; reason: 'format' | 'birth_date' | 'checksum' };

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARACTERS = '10X98765432';
const SHAPE = /^[1-9]\d{16}[\dX]$/;
const EARLIEST_BIRTH_DATE = '1900-01-01';
/** Birth dates are Beijing calendar dates; China has one time zone and no daylight saving. */
const CHINA_OFFSET_MS = 8 * 60 * 60 * 1000;

/** The check character for the first 17 digits (ISO 7064 MOD 11-2). */
export function idNumberCheckCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i]!;
  return CHECK_CHARACTERS[sum % 11]!;
}

/**
 * `now` decides what "in the future" means; callers leave it alone, tests pin it.
 * Input is NFKC-normalised first, so full-width digits typed on a phone keyboard
 * (１１０１…) parse like ASCII ones.
 */
export function parseIdNumber(input: string, now: Date = new Date()): IdNumber | IdNumberRejection {
  const value = input.normalize('NFKC').trim().toUpperCase();
  if (!SHAPE.test(value)) return { ok: false, reason: 'format' };

  const birthDate = `${value.slice(6, 10)}-${value.slice(10, 12)}-${value.slice(12, 14)}`;
  if (!isRealDate(birthDate) || birthDate < EARLIEST_BIRTH_DATE || birthDate > chinaToday(now)) {
    return { ok: false, reason: 'birth_date' };
  }

  if (idNumberCheckCharacter(value) !== value[17]) return { ok: false, reason: 'checksum' };

  return {
    ok: true,
    value,
    birthDate,
    gender: Number(value[16]) % 2 === 1 ? 'male' : 'female',
    regionCode: value.slice(0, 6),
  };
}

/** True for a YYYY-MM-DD that names a day on the calendar (no 1999-02-30). */
function isRealDate(isoDate: string): boolean {
  const date = new Date(`${isoDate}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === isoDate;
}

function chinaToday(now: Date): string {
  return new Date(now.getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}
