import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { AppError } from '../errors.js';

const BINDING_COOKIE = 'civic_bb';

/**
 * A random value in an HttpOnly cookie that ties self-service flows to one browser: a flow
 * id seen in someone's history cannot be continued from another browser.
 */
export function browserBinding(ctx: Context): string {
  const existing = ctx.cookies.get(BINDING_COOKIE, { signed: true });
  if (existing && /^[A-Za-z0-9_-]{22}$/.test(existing)) return existing;
  const fresh = randomBytes(16).toString('base64url');
  ctx.cookies.set(BINDING_COOKIE, fresh, { httpOnly: true, sameSite: 'lax', signed: true, secure: ctx.secure, maxAge: 24 * 3600 * 1000 });
  return fresh;
}

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
