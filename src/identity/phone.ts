/**
 * Mainland China mobile numbers: 11 digits starting 13..19. People write them with
 * spaces or dashes (138 0013 8000, 138-0013-8000) and sometimes with the country code
 * (+86, 86, 0086); all of these are one number, and the bare 11 digits are the one
 * normal form we send SMS to, store and blind-index.
 */

const MOBILE = /^1[3-9]\d{9}$/;
const SEPARATORS = /[\s-]+/g;
const COUNTRY_PREFIXES = ['+86', '0086', '86'] as const;

/** The bare 11-digit number, or null when the input is not a mainland mobile number. */
export function normalisePhone(input: string): string | null {
  // NFKC turns full-width digits, plus signs and hyphens from a phone keyboard into ASCII.
  let digits = input.normalize('NFKC').replace(SEPARATORS, '');
  // A mobile number starts with 1, so a leading 86 can only be a country code; what
  // is left after removing one must still pass the full pattern below.
  const prefix = COUNTRY_PREFIXES.find((p) => digits.startsWith(p));
  if (prefix) digits = digits.slice(prefix.length);
  return MOBILE.test(digits) ? digits : null;
}
