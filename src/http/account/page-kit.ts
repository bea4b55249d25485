import type { Context, Middleware } from 'koa';
import type { Provider } from 'oidc-provider';
import type { z } from 'zod';
import type { Accounts } from '../../identity/accounts.js';
import { isMessageKey, translate, type Locale } from '../../i18n/messages.js';
import type { CsrfTokens } from '../csrf.js';
import type { PageRenderer } from '../render.js';
import { describeError, formAction, type ErrorPlaces, type PageError } from '../form-action.js';
import { safeAccountPath } from './login.js';
import { sessionPrincipal, type AccountPrincipal } from './principal.js';

export interface PageKitDependencies {
  provider: () => Provider;
  accounts: Accounts;
  pages: PageRenderer;
  csrf: CsrfTokens;
}

/** A signed-in page principal: pages always have a session. */
export type PagePrincipal = AccountPrincipal & { session: { id: string; uid: string } };

export type { PageError };
export type ShowPage = (ctx: Context, who: PagePrincipal, extra?: Record<string, unknown>, status?: number) => Promise<void>;

/** Errors that are not about what the person typed go to the error page, not back to the form. */
const NOT_ON_PAGE = new Set(['csrf', 'internal', 'unauthenticated', 'flow_expired', 'not_found']);

/** 2026-01-31 14:05, in China Standard Time (UTC+8 all year). */
export function chinaTime(at: Date | string | number): string {
  const local = new Date(new Date(at).getTime() + 8 * 3_600_000);
  return local.toISOString().slice(0, 16).replace('T', ' ');
}

/**
 * What every account page shares: the signed-in check (or a redirect to sign in), CSRF
 * tokens bound to the SSO session, and step errors shown on the page that caused them.
 */
export function pageKit(deps: PageKitDependencies) {
  const scope = (who: PagePrincipal) => `account:${who.session.uid}`;

  async function principal(ctx: Context): Promise<PagePrincipal | undefined> {
    return await sessionPrincipal(deps.provider(), deps.accounts, ctx) as PagePrincipal | undefined;
  }

  const describe = describeError;

  function render(ctx: Context, who: PagePrincipal, page: string, data: Record<string, unknown> = {}, status = 200): void {
    const locale = ctx.state.locale as Locale;
    // A label for a value that may have none in the catalogue (an audit action, a login method).
    const tx = (key: string, fallback: string) => (isMessageKey(key) ? translate(locale, key) : fallback);
    deps.pages.render(ctx, page, locale, { csrf: deps.csrf.issue(scope(who)), time: chinaTime, tx, section: page, ...data }, status);
  }

  /** A page for signed-in citizens; anyone else is sent to sign in and brought back. */
  function view(handler: (ctx: Context, who: PagePrincipal) => Promise<void>): Middleware {
    return async (ctx) => {
      const who = await principal(ctx);
      if (!who) {
        const back = safeAccountPath(ctx.path);
        ctx.redirect(`/account/login${back && back !== '/account' ? `?return_to=${encodeURIComponent(back)}` : ''}`);
        return;
      }
      await handler(ctx, who);
    };
  }

  /** A form post: see formAction (http/form-action.ts). */
  function action<T>(schema: z.ZodType<T>, show: ShowPage, run: (ctx: Context, who: PagePrincipal, input: T) => Promise<void>, places?: ErrorPlaces): Middleware {
    return formAction({ principal, checkCsrf: (_ctx, who, presented) => deps.csrf.verify(scope(who), presented), notOnPage: NOT_ON_PAGE }, schema, show, run, places);
  }

  function redirect(ctx: Context, to: string): void {
    ctx.status = 303;
    ctx.redirect(to);
  }

  return { principal, render, view, action, redirect, describe };
}

export type PageKit = ReturnType<typeof pageKit>;
