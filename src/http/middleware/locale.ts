import type { Context, Middleware } from 'koa';
import { pickLocale, type Locale } from '../../i18n/messages.js';
import { wantsJson } from './errors.js';

const COOKIE = 'lang';
/** What Accept-Language is matched against; any zh (zh-TW, zh-HK too) reads the zh-CN catalogue. */
const ACCEPTED = ['zh-CN', 'en', 'zh'];

/**
 * The language an API caller asks for in Accept-Language (q-values honoured), if it names
 * one we have. An app states its reader's language there on every request and keeps no
 * cookie, so for JSON callers the header speaks before the cookie.
 */
function acceptedLanguage(ctx: Context): Locale | undefined {
  if (!ctx.get('accept-language')) return undefined;
  const best = ctx.acceptsLanguages(ACCEPTED);
  return best ? pickLocale(best) : undefined;
}

/**
 * zh-CN unless the reader chose otherwise: a `?lang=` switch (remembered in a cookie), the
 * cookie, or the relying party's `ui_locales` (applied later by the interaction routes).
 * A JSON caller's Accept-Language comes after the switch and before the cookie; pages keep
 * zh-CN whatever the browser sends (English by ui_locales or the switch, DESIGN.md §8).
 */
export const locale: Middleware = async (ctx, next) => {
  const switched = typeof ctx.query.lang === 'string' ? ctx.query.lang : undefined;
  const accepted = !switched && wantsJson(ctx) ? acceptedLanguage(ctx) : undefined;
  if (switched) {
    const chosen = pickLocale(switched);
    ctx.cookies.set(COOKIE, chosen, { httpOnly: true, sameSite: 'lax', maxAge: 365 * 24 * 3600 * 1000, signed: false });
    ctx.state.locale = chosen;
    ctx.state.localeChosen = true;
  } else if (accepted) {
    ctx.state.locale = accepted;
    ctx.state.localeChosen = true;
  } else {
    const remembered = ctx.cookies.get(COOKIE, { signed: false });
    ctx.state.locale = pickLocale(remembered);
    ctx.state.localeChosen = Boolean(remembered);
  }
  await next();
};
