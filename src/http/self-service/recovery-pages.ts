import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { AppError } from '../../errors.js';
import type { Recovery } from '../../flows/recovery.js';
import { translate, translateParams, type Locale } from '../../i18n/messages.js';
import type { Captchas } from '../../verification/captcha.js';
import type { SmsCodes } from '../../verification/sms-codes.js';
import { recoverySchemas } from '../api/recovery.js';
import { browserBinding, type CsrfTokens } from '../csrf.js';
import { captchaImage } from '../interaction/routes.js';
import { noStore } from '../middleware/security-headers.js';
import type { PageRenderer } from '../render.js';
import { parseInput, requestMeta } from '../request-meta.js';
import { safeReturnTo } from '../return-to.js';

export interface RecoveryPageDependencies {
  recovery: Recovery;
  pages: PageRenderer;
  csrf: CsrfTokens;
  smsCodes: SmsCodes;
  captchas: Captchas;
}

const withCsrf = <T extends z.ZodRawShape>(shape: T) => z.object({ csrf: z.string(), ...shape });

const forms = {
  identity: withCsrf(recoverySchemas.identity.shape),
  resend: withCsrf(recoverySchemas.resend.shape),
  code: withCsrf(recoverySchemas.code.shape),
  password: withCsrf({ password: z.string().min(1).max(256), confirm: z.string().min(1).max(256) }),
};

/**
 * Password recovery in the browser: the same flow and service as the JSON API, one page
 * that shows the current step, forms that post and redirect back (a reload never resubmits).
 */
export function recoveryPages(deps: RecoveryPageDependencies): Router {
  const router = new Router({ prefix: '/recovery' });
  const form = bodyParser({ enableTypes: ['form'], formLimit: '16kb' });
  const flowRef = (id: string) => ({ id, channel: 'browser' as const });
  const scope = (ctx: Context) => `recovery:${ctx.params.flowId}:${browserBinding(ctx)}`;

  async function render(ctx: Context, extra: Record<string, unknown> = {}, status = 200) {
    const view = await deps.recovery.get(ctx.params.flowId!, 'browser');
    const returnTo = safeReturnTo(ctx.query.return_to);
    const sending = view.state === 'identity' || view.state === 'code_sent';
    deps.pages.render(ctx, 'recovery', ctx.state.locale as Locale, {
      view,
      csrf: deps.csrf.issue(scope(ctx)),
      action: (step: string) => `/recovery/${view.flow_id}/${step}${returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : ''}`,
      returnTo,
      captcha: sending && await deps.smsCodes.captchaRequired(ctx.ip) ? await captchaImage(deps.captchas) : undefined,
      ...extra,
    }, status);
  }

  /** Runs a step; on success redirects back to the page, on a step error shows it there. */
  function step<T extends { csrf: string }>(schema: z.ZodType<T>, run: (ctx: Context, input: T) => Promise<Record<string, string> | void>) {
    return async (ctx: Context) => {
      const input = parseInput(schema, ctx.request.body);
      deps.csrf.verify(scope(ctx), input.csrf);
      try {
        const note = await run(ctx, input);
        const returnTo = safeReturnTo(ctx.query.return_to);
        const query = new URLSearchParams({ ...(returnTo ? { return_to: returnTo } : {}), ...(note ?? {}) });
        ctx.status = 303;
        ctx.redirect(`/recovery/${ctx.params.flowId}${query.size > 0 ? `?${query}` : ''}`);
      } catch (error) {
        if (!(error instanceof AppError) || ['csrf', 'flow_expired', 'internal'].includes(error.code)) throw error;
        const locale = ctx.state.locale as Locale;
        await render(ctx, { error: { code: error.code, message: translate(locale, error.messageKey, translateParams(locale, error.details)) } }, error.status);
      }
    };
  }

  router.use(noStore);

  router.get('/', async (ctx) => {
    const view = await deps.recovery.start('browser');
    browserBinding(ctx);
    const returnTo = safeReturnTo(ctx.query.return_to);
    ctx.status = 303;
    ctx.redirect(`/recovery/${view.flow_id}${returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : ''}`);
  });

  router.get('/:flowId', async (ctx) => {
    await render(ctx, { resent: ctx.query.sent === '1' });
  });

  router.post('/:flowId/identity', form, step(forms.identity, async (ctx, input) => {
    await deps.recovery.submitIdentity(flowRef(ctx.params.flowId!), {
      name: input.name, idNumber: input.id_number, captcha: { id: input.captcha_id, answer: input.captcha_answer },
    }, requestMeta(ctx));
  }));

  router.post('/:flowId/code/resend', form, step(forms.resend, async (ctx, input) => {
    await deps.recovery.resendCode(flowRef(ctx.params.flowId!), { captcha: { id: input.captcha_id, answer: input.captcha_answer } }, requestMeta(ctx));
    return { sent: '1' };
  }));

  router.post('/:flowId/code', form, step(forms.code, async (ctx, input) => {
    await deps.recovery.verifyCode(flowRef(ctx.params.flowId!), { code: input.code });
  }));

  router.post('/:flowId/password', form, step(forms.password, async (ctx, input) => {
    if (input.password !== input.confirm) throw new AppError('invalid_input', { field: 'confirm' });
    await deps.recovery.setPassword(flowRef(ctx.params.flowId!), { password: input.password }, requestMeta(ctx));
  }));

  return router;
}
