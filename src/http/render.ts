import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { Context } from 'koa';
import { translate, type Locale, type MessageKey } from '../i18n/messages.js';

const VIEWS_DIR = fileURLToPath(new URL('../../views/', import.meta.url));

export interface PageModel {
  locale: Locale;
  /** Translate a catalogue key into the page's language. */
  t: (key: MessageKey, params?: Record<string, string | number>) => string;
  /** The same page in the other language. */
  switchLocaleHref: string;
  requestId: string;
  [key: string]: unknown;
}

/** Server-rendered pages: auto-escaped Eta templates under views/, one layout, no inline script. */
export class PageRenderer {
  private readonly eta: Eta;

  constructor(options: { cache: boolean }) {
    this.eta = new Eta({ views: VIEWS_DIR, cache: options.cache, autoEscape: true, defaultExtension: '.eta' });
  }

  html(page: string, model: PageModel): string {
    return this.eta.render(page, model);
  }

  /** Renders into the response with the headers every page needs. */
  render(ctx: Context, page: string, locale: Locale, data: Record<string, unknown> = {}, status = 200): void {
    const url = new URL(ctx.href);
    url.searchParams.set('lang', locale === 'en' ? 'zh-CN' : 'en');
    const model: PageModel = {
      ...data,
      locale,
      t: (key, params) => translate(locale, key, params),
      switchLocaleHref: `${url.pathname}${url.search}`,
      requestId: String(ctx.state.requestId ?? ''),
    };
    ctx.status = status;
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Content-Language', locale);
    ctx.body = this.html(page, model);
  }
}
