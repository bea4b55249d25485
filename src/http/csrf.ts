import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors.js';

/**
 * Form tokens bound to one interaction or flow: an HMAC of its id, so a page from
 * another site (or another login attempt) cannot post a valid form.
 */
export class CsrfTokens {
  constructor(private readonly key: string) {}

  issue(scope: string): string {
    return createHmac('sha256', this.key).update(`csrf\0${scope}`).digest('base64url');
  }

  verify(scope: string, presented: unknown): void {
    const expected = Buffer.from(this.issue(scope));
    const actual = Buffer.from(typeof presented === 'string' ? presented : '');
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) throw new AppError('csrf');
  }
}
