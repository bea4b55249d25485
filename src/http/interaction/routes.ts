import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context } from 'koa';
import { errors as oidcErrors, type InteractionResults, type Provider } from 'oidc-provider';
import { z } from 'zod';
import { AppError } from '../../errors.js';
import { pickLocale, translate, type Locale } from '../../i18n/messages.js';
import type { CsrfTokens } from '../csrf.js';
import { noStore } from '../middleware/security-headers.js';
import type { PageRenderer } from '../render.js';

export interface InteractionDependencies {
  provider: () => Provider;
  pages: PageRenderer;
  csrf: CsrfTokens;
}

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

const loginForm = z.object({
  csrf: z.string(),
  identifier: z.string().trim().min(1).max(64),
  password: z.string().min(1).max(128),
});

const confirmForm = z.object({ csrf: z.string() });

/**
 * The pages oidc-provider sends people to. Each handler loads the interaction from its
 * cookie, checks that the URL names the same interaction and that the step it acts on is
 * the one the provider is waiting for, and only then acts.
 */
export function interactionRoutes(deps: InteractionDependencies): Router {
  const router = new Router({ prefix: '/interaction' });
  const form = bodyParser({ enableTypes: ['form'], formLimit: '16kb' });

  async function load(ctx: Context, expectedPrompt?: string): Promise<Details> {
    let details: Details;
    try {
      details = await deps.provider().interactionDetails(ctx.req, ctx.res);
    } catch (error) {
      if (error instanceof oidcErrors.SessionNotFound) throw new AppError('interaction_expired', {}, { cause: error });
      throw error;
    }
    if (details.uid !== ctx.params.uid) throw new AppError('interaction_expired');
    if (expectedPrompt && details.prompt.name !== expectedPrompt) throw new AppError('wrong_step');
    if (!ctx.state.localeChosen) ctx.state.locale = pickLocale(details.params.ui_locales as string | undefined);
    return details;
  }

  async function clientName(details: Details): Promise<string> {
    const client = await deps.provider().Client.find(String(details.params.client_id));
    return client?.clientName ?? String(details.params.client_id);
  }

  async function finish(ctx: Context, result: InteractionResults): Promise<void> {
    const redirectTo = await deps.provider().interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(redirectTo);
  }

  function parse<T>(schema: z.ZodType<T>, body: unknown): T {
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new AppError('bad_request');
    return parsed.data;
  }

  router.use(noStore);

  router.get('/:uid', async (ctx) => {
    const details = await load(ctx);
    const locale = ctx.state.locale as Locale;
    const common = { uid: details.uid, csrf: deps.csrf.issue(details.uid), clientName: await clientName(details) };
    if (details.prompt.name === 'login') {
      deps.pages.render(ctx, 'login', locale, common);
      return;
    }
    if (details.prompt.name === 'consent') {
      const missing = details.prompt.details.missingOIDCScope as string[] | undefined;
      deps.pages.render(ctx, 'consent', locale, { ...common, scopes: missing ?? [] });
      return;
    }
    throw new AppError('wrong_step');
  });

  router.post('/:uid/login', form, async (ctx) => {
    const details = await load(ctx, 'login');
    const input = parse(loginForm, ctx.request.body);
    deps.csrf.verify(details.uid, input.csrf);
    // No login method is wired in yet: fail closed, on the page, without touching the interaction.
    const locale = ctx.state.locale as Locale;
    deps.pages.render(ctx, 'login', locale, {
      uid: details.uid,
      csrf: deps.csrf.issue(details.uid),
      clientName: await clientName(details),
      identifier: input.identifier,
      error: { code: 'login_unavailable', message: translate(locale, 'errors.login_unavailable') },
    }, 503);
  });

  router.post('/:uid/confirm', form, async (ctx) => {
    const details = await load(ctx, 'consent');
    const input = parse(confirmForm, ctx.request.body);
    deps.csrf.verify(details.uid, input.csrf);
    const provider = deps.provider();
    const { prompt: { details: missing }, params, session, grantId } = details;
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session!.accountId, clientId: String(params.client_id) });
    if (!grant) throw new AppError('interaction_expired');
    if (Array.isArray(missing.missingOIDCScope)) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (Array.isArray(missing.missingOIDCClaims)) grant.addOIDCClaims(missing.missingOIDCClaims as string[]);
    const resourceScopes = missing.missingResourceScopes as Record<string, string[]> | undefined;
    for (const [indicator, scopes] of Object.entries(resourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    await finish(ctx, { consent: { grantId: await grant.save() } });
  });

  router.get('/:uid/abort', async (ctx) => {
    await load(ctx);
    await finish(ctx, { error: 'access_denied', error_description: 'End-User aborted interaction' });
  });

  return router;
}
