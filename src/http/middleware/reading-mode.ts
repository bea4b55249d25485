import type { Middleware } from 'koa';

const COOKIE = 'care';

/**
 * 关怀模式 (the ageing-friendly reading mode): larger text, stronger contrast and larger
 * targets on every citizen page. Switched with `?care=1` / `?care=0` and remembered in a
 * cookie for a year, as the language is; pages read `ctx.state.careMode`.
 */
export const readingMode: Middleware = async (ctx, next) => {
  const switched = typeof ctx.query.care === 'string' ? ctx.query.care : undefined;
  if (switched === '1' || switched === '0') {
    ctx.cookies.set(COOKIE, switched, { httpOnly: true, sameSite: 'lax', maxAge: 365 * 24 * 3600 * 1000, signed: false });
    ctx.state.careMode = switched === '1';
  } else {
    ctx.state.careMode = ctx.cookies.get(COOKIE, { signed: false }) === '1';
  }
  await next();
};
