import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { AppError } from '../../errors.js';
import type { Registration } from '../../flows/registration.js';
import { translate, translateParams, type Locale } from '../../i18n/messages.js';
import type { Captchas } from '../../verification/captcha.js';
import type { SmsCodes } from '../../verification/sms-codes.js';
import { documentFactorKinds, registrationSchemas } from '../api/registration.js';
import { browserBinding, type CsrfTokens } from '../csrf.js';
import { captchaImage } from '../interaction/routes.js';
import { noStore } from '../middleware/security-headers.js';
import type { PageRenderer } from '../render.js';
import { parseInput, requestMeta } from '../request-meta.js';
import { safeReturnTo } from '../return-to.js';

export interface RegistrationPageDependencies {
  registration: Registration;
  pages: PageRenderer;
  csrf: CsrfTokens;
  smsCodes: SmsCodes;
  captchas: Captchas;
  agreementVersion: string;
}

const withCsrf = <T extends z.ZodRawShape>(shape: T) => z.object({ csrf: z.string(), ...shape });

const forms = {
  identity: withCsrf(registrationSchemas.identity.shape),
  phoneCode: withCsrf(registrationSchemas.phoneCode.shape),
  phoneVerify: withCsrf(registrationSchemas.phoneVerify.shape),
  factor: withCsrf(registrationSchemas.factor.shape),
  complete: withCsrf({ password: z.string().min(1).max(256), confirm: z.string().min(1).max(256), accept_agreement: z.string().optional() }),
};

/**
 * Registration in the browser: the same flow and service as the JSON API, one page that
 * shows the current step, forms that post and redirect back (so a reload never resubmits).
 */
export function registrationPages(deps: RegistrationPageDependencies): Router {
  const router = new Router({ prefix: '/register' });
  const form = bodyParser({ enableTypes: ['form'], formLimit: '16kb' });
  const flowRef = (id: string) => ({ id, channel: 'browser' as const });
  const scope = (ctx: Context) => `registration:${ctx.params.flowId}:${browserBinding(ctx)}`;

  async function render(ctx: Context, extra: Record<string, unknown> = {}, status = 200) {
    const view = await deps.registration.get(ctx.params.flowId!, 'browser');
    const returnTo = safeReturnTo(ctx.query.return_to);
    deps.pages.render(ctx, 'register', ctx.state.locale as Locale, {
      view,
      csrf: deps.csrf.issue(scope(ctx)),
      action: (step: string) => `/register/${view.flow_id}/${step}${returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : ''}`,
      returnTo,
      kinds: documentFactorKinds.filter((kind) => !view.verified_factors.some((f) => f.kind === kind)),
      captcha: view.state === 'factors' && await deps.smsCodes.captchaRequired(ctx.ip) ? await captchaImage(deps.captchas) : undefined,
      agreementVersion: deps.agreementVersion,
      ...extra,
    }, status);
  }

  /** Runs a step; on success redirects back to the page, on a step error shows it there. */
  function step<T extends { csrf: string }>(schema: z.ZodType<T>, run: (ctx: Context, input: T) => Promise<Record<string, unknown> | void>) {
    return async (ctx: Context) => {
      const input = parseInput(schema, ctx.request.body);
      deps.csrf.verify(scope(ctx), input.csrf);
      try {
        const note = await run(ctx, input);
        const returnTo = safeReturnTo(ctx.query.return_to);
        const query = new URLSearchParams({ ...(returnTo ? { return_to: returnTo } : {}), ...(note ?? {}) as Record<string, string> });
        ctx.status = 303;
        ctx.redirect(`/register/${ctx.params.flowId}${query.size > 0 ? `?${query}` : ''}`);
      } catch (error) {
        if (!(error instanceof AppError) || ['csrf', 'flow_expired', 'internal'].includes(error.code)) throw error;
        const locale = ctx.state.locale as Locale;
        await render(ctx, { error: { code: error.code, message: translate(locale, error.messageKey, translateParams(locale, error.details)) } }, error.status);
      }
    };
  }

  router.use(noStore);

  router.get('/', async (ctx) => {
    const view = await deps.registration.start('browser');
    browserBinding(ctx);
    const returnTo = safeReturnTo(ctx.query.return_to);
    ctx.status = 303;
    ctx.redirect(`/register/${view.flow_id}${returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : ''}`);
  });

  router.get('/:flowId', async (ctx) => {
    await render(ctx, { codeSent: ctx.query.sent === '1' });
  });

  router.post('/:flowId/identity', form, step(forms.identity, async (ctx, input) => {
    await deps.registration.submitIdentity(flowRef(ctx.params.flowId!), { name: input.name, idNumber: input.id_number });
  }));

  router.post('/:flowId/phone/code', form, step(forms.phoneCode, async (ctx, input) => {
    await deps.registration.sendPhoneCode(flowRef(ctx.params.flowId!), { phone: input.phone, captcha: { id: input.captcha_id, answer: input.captcha_answer } }, requestMeta(ctx));
    return { sent: '1' };
  }));

  router.post('/:flowId/phone/verify', form, step(forms.phoneVerify, async (ctx, input) => {
    await deps.registration.verifyPhone(flowRef(ctx.params.flowId!), { code: input.code });
  }));

  router.post('/:flowId/factors', form, step(forms.factor, async (ctx, input) => {
    await deps.registration.verifyFactor(flowRef(ctx.params.flowId!), { kind: input.kind, number: input.number, reservedPhone: input.reserved_phone || undefined });
  }));

  router.post('/:flowId/complete', form, step(forms.complete, async (ctx, input) => {
    if (input.password !== input.confirm) throw new AppError('invalid_input', { field: 'confirm' });
    await deps.registration.complete(flowRef(ctx.params.flowId!), { password: input.password, acceptAgreement: input.accept_agreement === 'yes' }, requestMeta(ctx));
  }));

  return router;
}
