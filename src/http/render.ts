import { Eta } from 'eta';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { SiteIdentity } from '../config/load.js';
import { translate, type Locale, type MessageKey } from '../i18n/messages.js';
import { VIEWS_DIR } from './views-dir.js';


export interface PageModel {
  locale: Locale;
  /** Translate a catalogue key into the page's language. */
  t: (key: MessageKey, params?: Record<string, string | number>) => string;
  /** The same page in the other language. */
  switchLocaleHref: string;
  /** 关怀模式 (larger text, stronger contrast) is on for this reader. */
  careMode: boolean;
  /** The same page with 关怀模式 switched the other way. */
  switchCareHref: string;
  requestId: string;
  [key: string]: unknown;
}

/** Server-rendered pages: auto-escaped Eta templates under views/, one layout, no inline script. */
export class PageRenderer {
  private readonly eta: Eta;

  private readonly site: SiteIdentity;

  constructor(options: { cache: boolean; site: SiteIdentity }) {
    this.eta = new Eta({ views: VIEWS_DIR, cache: options.cache, autoEscape: true, defaultExtension: '.eta' });
    this.site = options.site;
  }

  html(page: string, model: PageModel): string {
    return this.eta.render(page, model);
  }

  /** Renders into the response with the headers every page needs. */
  render(ctx: Context, page: string, locale: Locale, data: Record<string, unknown> = {}, status = 200): void {
    const careMode = ctx.state.careMode === true;
    const model: PageModel = {
      ...data,
      locale,
      t: (key, params) => translate(locale, key, params),
      switchLocaleHref: switchHref(ctx, 'lang', locale === 'en' ? 'zh-CN' : 'en'),
      careMode,
      site: this.site,
      switchCareHref: switchHref(ctx, 'care', careMode ? '0' : '1'),
      requestId: String(ctx.state.requestId ?? ''),
    };
    ctx.status = status;
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Content-Language', locale);
    ctx.body = this.html(page, model);
  }
}

/** Query parameters that carry a token or personal data, never repeated in a rendered link. */
const UNLINKABLE_PARAMS = ['id_token_hint', 'login_hint', 'logout_hint', 'code', 'token', 'access_token', 'refresh_token', 'request', 'request_uri', 'client_assertion'];

/**
 * This page's address with one reader preference switched. A page shown in answer to a
 * form post links to the nearest enclosing address its router serves by GET (the form's
 * own page), never to the post's address, which a link cannot open.
 */
function switchHref(ctx: Context, name: string, value: string): string {
  const url = new URL(ctx.href);
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') url.pathname = readablePath(ctx, url.pathname);
  // A link is copied, bookmarked and logged: tokens and personal hints stay out of it.
  for (const secret of UNLINKABLE_PARAMS) url.searchParams.delete(secret);
  url.searchParams.set(name, value);
  return `${url.pathname}${url.search}`;
}

function readablePath(ctx: Context, path: string): string {
  const router = (ctx as Context & { router?: unknown }).router;
  // The provider's own router: its browser endpoints (authorization, end session) serve GET as well as POST.
  if (router !== undefined && !(router instanceof Router)) return path;
  for (let candidate = path; candidate.length > 0; candidate = candidate.slice(0, candidate.lastIndexOf('/'))) {
    if (router?.match(candidate, 'GET').route) return candidate;
  }
  return '/';
}
