import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { AppError } from '../../errors.js';
import { ACCOUNT_CENTRE_CLIENT_ID, accountCentreCallback } from '../../oidc/account-centre-client.js';
import { noStore } from '../middleware/security-headers.js';

const LOGIN_COOKIE = 'civic_account_login';
const LOGIN_COOKIE_MS = 10 * 60 * 1000;

/** Only account-centre pages may be returned to after signing in: no open redirect. */
export function safeAccountPath(value: unknown): string | undefined {
  return typeof value === 'string' && /^\/account(?:\/[A-Za-z0-9_-]+){0,3}$/.test(value) ? value : undefined;
}

function sameString(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Signing in to the account centre: an ordinary authorization request to our own
 * provider, so the citizen sees the one login page with its second factor, lockout and
 * audit, and the provider's SSO session (which the account pages read) is what results.
 *
 * The code that comes back is deliberately not redeemed. The pages need the session,
 * not tokens; redeeming would mean the server calling its own public URL (`${ISSUER}/token`,
 * often unreachable from inside the network) for tokens it would throw away. The PKCE
 * verifier is not even kept: without it the code is useless to anyone who sees it (in
 * history or a log), and it expires unused within a minute. `state`, kept in a signed,
 * HttpOnly cookie, ties the callback to the browser that started the login.
 */
export function accountLoginRoutes(options: { issuer: string }): Router {
  const router = new Router({ prefix: '/account' });
  router.use(noStore);

  router.get('/login', (ctx) => {
    const state = randomBytes(18).toString('base64url');
    const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
    const returnTo = safeAccountPath(ctx.query.return_to) ?? '/account';
    ctx.cookies.set(LOGIN_COOKIE, `${state}.${Buffer.from(returnTo).toString('base64url')}`, {
      httpOnly: true, sameSite: 'lax', signed: true, secure: ctx.secure, path: '/account', maxAge: LOGIN_COOKIE_MS,
    });
    const url = new URL('/auth', options.issuer);
    const params: Record<string, string> = {
      client_id: ACCOUNT_CENTRE_CLIENT_ID,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: accountCentreCallback(options.issuer),
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state,
      ...(ctx.state.localeChosen ? { ui_locales: String(ctx.state.locale) } : {}),
    };
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    ctx.redirect(`${url.pathname}${url.search}`);
  });

  router.get('/callback', (ctx: Context) => {
    const saved = ctx.cookies.get(LOGIN_COOKIE, { signed: true }) ?? '';
    ctx.cookies.set(LOGIN_COOKIE, null, { path: '/account', signed: true });
    const [expected = '', encodedReturn = ''] = saved.split('.');
    const state = typeof ctx.query.state === 'string' ? ctx.query.state : '';
    if (!expected || !sameString(expected, state)) throw new AppError('login_state_invalid');
    // RFC 9207: the answer must come from our own issuer.
    if (typeof ctx.query.iss === 'string' && ctx.query.iss !== options.issuer) throw new AppError('login_state_invalid');
    if (typeof ctx.query.error === 'string') throw new AppError('unauthenticated');
    ctx.status = 303;
    ctx.redirect(safeAccountPath(Buffer.from(encodedReturn, 'base64url').toString()) ?? '/account');
  });

  return router;
}
