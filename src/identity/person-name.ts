/**
 * Whether two spellings name the same person: full-width and half-width forms are one, and
 * the middle dots of minority names (阿依古丽·买买提) are typed many ways.
 */
export function sameName(a: string, b: string): boolean {
  return normalName(a) === normalName(b);
}

/** A name in the one form sameName compares. */
export function normalName(name: string): string {
  return name.normalize('NFKC').trim().replace(/[·•‧・.．]/g, '·');
}
