/**
 * Whether two spellings name the same person: full-width and half-width forms are one, and
 * the middle dots of minority names (阿依古丽·买买提) are typed many ways.
 */
export function sameName(a: string, b: string): boolean {
  const normal = (name: string) => name.normalize('NFKC').trim().replace(/[·•‧・.．]/g, '·');
  return normal(a) === normal(b);
}
