import type { Context } from 'koa';
import { errors as oidcErrors, type InteractionResults, type Provider } from 'oidc-provider';
import { AppError } from '../../errors.js';
import { pickLocale, type Locale } from '../../i18n/messages.js';

export type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;

/**
 * The interaction this request belongs to, from its cookie: the URL must name the same
 * interaction, and, when given, the provider must be waiting for `expectedPrompt`. The
 * page language follows `ui_locales` unless the person chose one.
 */
export async function loadInteraction(provider: Provider, ctx: Context, expectedPrompt?: string): Promise<InteractionDetails> {
  let details: InteractionDetails;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch (error) {
    if (error instanceof oidcErrors.SessionNotFound) throw new AppError('interaction_expired', {}, { cause: error });
    throw error;
  }
  if (details.uid !== ctx.params.uid) throw new AppError('interaction_expired');
  if (expectedPrompt && details.prompt.name !== expectedPrompt) throw new AppError('wrong_step');
  if (!ctx.state.localeChosen) ctx.state.locale = pickLocale(details.params.ui_locales as string | undefined);
  return details;
}

/** Hands the interaction's result to the provider and sends the browser on to it. */
export async function finishInteraction(provider: Provider, ctx: Context, result: InteractionResults): Promise<void> {
  const redirectTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  ctx.status = 303;
  ctx.redirect(redirectTo);
}

/** Errors no page can recover from: they go to the error page, never back to the form. */
const FATAL_STEP_ERRORS = ['csrf', 'interaction_expired', 'wrong_step', 'internal'];

/**
 * Runs a step; an error about what was typed is shown on the step's own page (with its
 * code and message in the page's language), anything else goes to the error page.
 * `alsoFatal` names further codes the page cannot show.
 */
export async function keepOnPage(
  ctx: Context,
  page: (error: { code: string; message: string }, status: number) => Promise<void>,
  work: () => Promise<void>,
  alsoFatal: string[] = [],
): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (!(error instanceof AppError) || FATAL_STEP_ERRORS.includes(error.code) || alsoFatal.includes(error.code)) throw error;
    await page({ code: error.code, message: error.messageIn(ctx.state.locale as Locale) }, error.status);
  }
}
