import type { Context, Middleware } from 'koa';
import { AppError } from '../../errors.js';
import type { Locale } from '../../i18n/messages.js';
import { storeFault } from '../../store/faults.js';
import type { PageRenderer } from '../render.js';

/** A caller of the JSON API, or one that prefers JSON to a page: it gets errors as JSON (and its language from Accept-Language, locale.ts). */
export function wantsJson(ctx: Context): boolean {
  return ctx.path.startsWith('/api/') || ctx.accepts('html', 'json') === 'json';
}

/** Malformed input from the HTTP layer (bad JSON, oversized body) is the caller's fault. */
function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (storeFault(error)) return new AppError('store_unavailable', {}, { cause: error });
  const status = (error as { status?: number }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new AppError(status === 404 ? 'not_found' : 'bad_request', {}, { cause: error });
  }
  return new AppError('internal', {}, { cause: error });
}

/**
 * The single place errors become responses: `{ error, message, request_id }` for JSON
 * callers, the error page for browsers. A 500 never shows a stack; the log has it.
 * Every 503 (a store or upstream outage, oidc-provider's own endpoints, readiness) says
 * when to come back.
 */
export function errorHandler(pages: PageRenderer, options: { retryAfterSeconds: number }): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new AppError('not_found');
      // A router's 405 (with its Allow header) gets a body like every other error.
      if (ctx.status === 405 && ctx.body === undefined) throw new AppError('method_not_allowed');
    } catch (thrown) {
      const error = toAppError(thrown);
      if (error.code === 'internal') ctx.state.log?.error({ err: thrown }, 'unhandled error');
      if (error.code === 'store_unavailable') ctx.state.log?.warn({ store: storeFault(thrown)?.store, err: thrown }, 'store unavailable');
      const locale = (ctx.state.locale ?? 'zh-CN') as Locale;
      const message = error.messageIn(locale);
      ctx.set('Cache-Control', 'no-store');
      if (wantsJson(ctx)) {
        ctx.status = error.status;
        ctx.set('Content-Language', locale);
        ctx.body = {
          error: error.code,
          message,
          message_zh: error.messageIn('zh-CN'),
          message_en: error.messageIn('en'),
          ...(typeof error.details.reason === 'string' ? { reason: error.details.reason } : {}),
          request_id: ctx.state.requestId,
        };
      } else {
        pages.render(ctx, 'error', locale, { code: error.code, message }, error.status);
      }
    }
    if (ctx.status === 503 && !ctx.response.get('Retry-After')) ctx.set('Retry-After', String(options.retryAfterSeconds));
  };
}
