/**
 * How personal data is shown wherever the law does not need it whole (DESIGN.md §4):
 * on pages, in API answers, in the helpdesk console, in audit views.
 *
 * Every function works on Unicode code points, so a name with a character outside
 * the Basic Multilingual Plane (𠮷) is never cut through a surrogate pair. Input
 * shorter than the shape a function expects is masked entirely: a mask must never
 * show more of a short value than it would of a proper one.
 */

const STAR = '*';
/** ASCII, or letters of the Latin script (José, Müller) with ASCII spaces and punctuation. */
const LATIN_NAME = /^[\p{ASCII}\p{Script=Latin}\p{M}]+$/u;

/** 110105********002X: region code and the last four shown, birth date hidden. */
export function maskIdNumber(idNumber: string): string {
  return keepEnds(idNumber.trim(), 6, 4, 15);
}

/** 138****0000 */
export function maskPhone(phone: string): string {
  return keepEnds(phone.trim(), 3, 4, 11);
}

/**
 * 6222 **** **** 3445: the issuing bank's prefix and the last four, in the grouping
 * printed on cards. The middle is always eight stars, whatever the card's length.
 */
export function maskCardNumber(cardNumber: string): string {
  const chars = codePoints(cardNumber.replace(/[\s-]+/g, ''));
  if (chars.length < 12) return allMasked(chars.length);
  return `${chars.slice(0, 4).join('')} **** **** ${chars.slice(-4).join('')}`;
}

/** 9135**********0Y43 */
export function maskUscc(uscc: string): string {
  return keepEnds(uscc.trim(), 4, 4, 12);
}

/** **** 3445: bank accounts show only the last four; the length stays hidden too. */
export function maskAccountNumber(accountNumber: string): string {
  const chars = codePoints(accountNumber.replace(/[\s-]+/g, ''));
  if (chars.length < 8) return allMasked(chars.length);
  return `**** ${chars.slice(-4).join('')}`;
}

/**
 * 张三 → *三, 欧阳娜娜 → ***娜 (only the last character, the convention on Chinese
 * government sites); a name in Latin letters shows its first letter instead
 * (Smith → S****, José → J***), since its last letter says nothing useful. A
 * one-character name is masked entirely.
 */
export function maskName(name: string): string {
  // NFC first, so an accent typed as a combining mark stays with its letter.
  const chars = codePoints(name.normalize('NFC').trim());
  if (chars.length <= 1) return allMasked(chars.length);
  if (LATIN_NAME.test(chars.join(''))) return chars[0] + STAR.repeat(chars.length - 1);
  return STAR.repeat(chars.length - 1) + chars[chars.length - 1];
}

/** The first `start` and last `end` code points, stars between; all stars below `minLength`. */
function keepEnds(value: string, start: number, end: number, minLength: number): string {
  const chars = codePoints(value);
  if (chars.length < minLength) return allMasked(chars.length);
  return chars.slice(0, start).join('') + STAR.repeat(chars.length - start - end) + chars.slice(chars.length - end).join('');
}

/** At least one star, so an empty value never looks like a shown one. */
function allMasked(length: number): string {
  return STAR.repeat(Math.max(length, 1));
}

function codePoints(value: string): string[] {
  return Array.from(value);
}
