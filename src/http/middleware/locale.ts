import type { Middleware } from 'koa';
import { pickLocale } from '../../i18n/messages.js';

const COOKIE = 'lang';

/**
 * zh-CN unless the reader chose otherwise: a `?lang=` switch (remembered in a cookie), the
 * cookie, or the relying party's `ui_locales` (applied later by the interaction routes).
 */
export const locale: Middleware = async (ctx, next) => {
  const switched = typeof ctx.query.lang === 'string' ? ctx.query.lang : undefined;
  if (switched) {
    const chosen = pickLocale(switched);
    ctx.cookies.set(COOKIE, chosen, { httpOnly: true, sameSite: 'lax', maxAge: 365 * 24 * 3600 * 1000, signed: false });
    ctx.state.locale = chosen;
    ctx.state.localeChosen = true;
  } else {
    const remembered = ctx.cookies.get(COOKIE, { signed: false });
    ctx.state.locale = pickLocale(remembered);
    ctx.state.localeChosen = Boolean(remembered);
  }
  await next();
};
