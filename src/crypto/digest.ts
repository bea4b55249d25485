import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Keyed digests: blind indexes find personal data by exact value without storing it in
 * clear, and client secrets are checked without being stored. `purpose` separates the
 * uses so one digest can never stand in for another.
 */
export class KeyedDigest {
  constructor(private readonly key: Buffer) {}

  digest(purpose: string, value: string): string {
    return createHmac('sha256', this.key).update(purpose).update('\0').update(value).digest('base64url');
  }

  matches(purpose: string, value: string, expected: string): boolean {
    const actual = Buffer.from(this.digest(purpose, value));
    const wanted = Buffer.from(expected);
    return actual.length === wanted.length && timingSafeEqual(actual, wanted);
  }
}
