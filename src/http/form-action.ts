import type { Context, Middleware } from 'koa';
import type { z } from 'zod';
import { AppError, type ErrorCode } from '../errors.js';
import type { Locale } from '../i18n/messages.js';
import { parseInput } from './request-meta.js';

export type PageError = { code: string; message: string; field?: string };

/** An error as a form page shows it, in the reader's language, with the field it is about when there is one. */
export function describeError(ctx: Context, error: AppError): PageError {
  const field = typeof error.details.field === 'string' ? error.details.field : undefined;
  return { code: error.code, message: error.messageIn(ctx.state.locale as Locale), ...(field ? { field } : {}) };
}

/**
 * Where on one form its refusals belong. The domain names a field only where it knows one
 * (`id_number`); most refusals (`code_invalid`, `factor_mismatch`) it raises without, and
 * some under its own name for a field the form calls otherwise (a grant's `scope` is the
 * form's `item` boxes). Each form says which of its fields an error is about.
 */
export interface ErrorPlaces {
  /** The form field an error that names none is about. */
  byCode?: Partial<Record<ErrorCode, string>>;
  /** The form's name for a field the domain names otherwise. */
  renamed?: Record<string, string>;
}

/** A page model's refusal (`error`) put beside the field of this form it is about; anything else unchanged. */
export function placeError(extra: Record<string, unknown>, places: ErrorPlaces): Record<string, unknown> {
  const error = extra.error as PageError | undefined;
  if (!error) return extra;
  const named = error.field ?? places.byCode?.[error.code as ErrorCode];
  const field = named === undefined ? undefined : places.renamed?.[named] ?? named;
  return { ...extra, error: { code: error.code, message: error.message, ...(field ? { field } : {}) } };
}

/** Fields a refused form never echoes back: secrets, one-time codes and tokens. */
const NEVER_ECHOED = /^(csrf|password|new_password|current_password|code|sms_code|captcha_answer|captcha_id|totp|recovery_code|secret|flow_token)$/;

/** `confirm` is a password's confirmation on some forms and a ticked box (`yes`) on others: only the box comes back. */
const echoed = (name: string, value: unknown) => !NEVER_ECHOED.test(name) && (name !== 'confirm' || value === 'yes');

/**
 * What the person typed, to fill a refused form again so nothing has to be typed twice:
 * every plain field but secrets and codes, as posted (strings, or lists for repeated boxes).
 */
export function typedBack(body: unknown): Record<string, string | string[]> {
  if (!body || typeof body !== 'object') return {};
  return Object.fromEntries(Object.entries(body as Record<string, unknown>)
    .filter(([name, value]) => echoed(name, value) && (typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string'))))
    .map(([name, value]) => [name, typeof value === 'string' ? value.slice(0, 500) : (value as string[]).slice(0, 50)]));
}

/** What a refused form is shown again with: the error beside its field, and what was typed. */
export function refusal(ctx: Context, error: AppError, places: ErrorPlaces = {}): Record<string, unknown> {
  return placeError({ error: describeError(ctx, error), typed: typedBack(ctx.request.body) }, places);
}

export interface FormGuard<Who> {
  /** The signed-in person, or undefined (the post is then refused as unauthenticated). */
  principal(ctx: Context): Promise<Who | undefined>;
  /** Throws when the form's CSRF token is not this person's. */
  checkCsrf(ctx: Context, who: Who, presented: unknown): Promise<void> | void;
  /** Error codes that go to the error page rather than back onto the form. */
  notOnPage: ReadonlySet<string>;
  /** Told of every refusal of the post, wherever it is shown (the console audits those of the request's form). */
  refused?(ctx: Context, who: Who, error: AppError): Promise<void>;
}

/**
 * A form post for signed-in pages: the person, then the CSRF token (before anything else
 * about the body, so a forged post gets 403 whatever it contains), then the input, then
 * the work. Errors about the input are shown on `show`, beside the field `places` puts
 * them at; the work redirects or renders.
 */
export function formAction<Who, T>(
  guard: FormGuard<Who>,
  schema: z.ZodType<T>,
  show: (ctx: Context, who: Who, extra?: Record<string, unknown>, status?: number) => Promise<void>,
  run: (ctx: Context, who: Who, input: T) => Promise<void>,
  places: ErrorPlaces = {},
): Middleware {
  return async (ctx) => {
    const who = await guard.principal(ctx);
    if (!who) throw new AppError('unauthenticated');
    await guard.checkCsrf(ctx, who, (ctx.request.body as { csrf?: unknown } | undefined)?.csrf);
    try {
      await run(ctx, who, parseInput(schema, ctx.request.body));
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      await guard.refused?.(ctx, who, error);
      if (guard.notOnPage.has(error.code)) throw error;
      await show(ctx, who, refusal(ctx, error, places), error.status);
    }
  };
}
