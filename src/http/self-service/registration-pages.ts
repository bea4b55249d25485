import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { AppError } from '../../errors.js';
import type { Registration } from '../../flows/registration.js';
import type { Locale } from '../../i18n/messages.js';
import type { Captchas } from '../../verification/captcha.js';
import type { SmsCodes } from '../../verification/sms-codes.js';
import { captchaOf, documentFactorKinds, registrationSchemas } from '../api/registration.js';
import type { CsrfTokens } from '../csrf.js';
import { captchaImage } from '../captcha-image.js';
import { noStore } from '../middleware/security-headers.js';
import type { PageRenderer } from '../render.js';
import { requestMeta } from '../request-meta.js';
import { FlowPages, withCsrf } from './flow-pages.js';

export interface RegistrationPageDependencies {
  registration: Registration;
  pages: PageRenderer;
  csrf: CsrfTokens;
  smsCodes: SmsCodes;
  captchas: Captchas;
  agreementVersion: string;
}

const CAPTCHA_ERRORS = ['captcha_required', 'captcha_invalid'];
const errorCode = (extra: Record<string, unknown>) => String((extra.error as { code?: unknown } | undefined)?.code ?? '');

const forms = {
  identity: withCsrf(registrationSchemas.identity.shape),
  phoneCode: withCsrf(registrationSchemas.phoneCode.shape),
  phoneVerify: withCsrf(registrationSchemas.phoneVerify.shape),
  factor: withCsrf(registrationSchemas.factor.shape),
  complete: withCsrf({ password: z.string().min(1).max(256), confirm: z.string().min(1).max(256), accept_agreement: z.string().optional(), without_phone: z.string().optional() }),
};

/** Registration in the browser: the same flow and service as the JSON API. */
export function registrationPages(deps: RegistrationPageDependencies): Router {
  const router = new Router({ prefix: '/register' });
  const kit = new FlowPages('/register', 'registration', deps.csrf);

  async function render(ctx: Context, extra: Record<string, unknown> = {}, status = 200) {
    const { view, checkNeedsCaptcha } = await deps.registration.forPage(kit.flowRef(ctx), ctx.ip);
    deps.pages.render(ctx, 'register', ctx.state.locale as Locale, {
      view,
      ...kit.common(ctx, view.flow_id),
      kinds: documentFactorKinds.filter((kind) => !view.verified_factors.some((f) => f.kind === kind)),
      captcha: view.state === 'factors' && await deps.smsCodes.captchaRequired(ctx.ip) ? await captchaImage(deps.captchas) : undefined,
      // A second captcha, for the identity or factor form, once real-name checks need one. Before
      // the ID number is known only the address's count can tell; a refusal tells the rest.
      checkCaptcha: view.state !== 'complete'
        && ((view.state === 'identity' && CAPTCHA_ERRORS.includes(errorCode(extra))) || checkNeedsCaptcha)
        ? await captchaImage(deps.captchas) : undefined,
      agreementVersion: deps.agreementVersion,
      ...extra,
    }, status);
  }

  router.use(noStore);
  kit.start(router, (starter) => deps.registration.start(starter));

  router.get('/:flowId', async (ctx) => {
    await render(ctx);
  });

  router.post('/:flowId/identity', kit.form, kit.step(forms.identity, render, async (ctx, input) => {
    await deps.registration.submitIdentity(kit.flowRef(ctx), { name: input.name, idNumber: input.id_number, captcha: captchaOf(input) }, requestMeta(ctx));
  }));

  router.post('/:flowId/phone/code', kit.form, kit.sendStep(forms.phoneCode, render, async (ctx, input) => {
    await deps.registration.sendPhoneCode(kit.flowRef(ctx), { phone: input.phone, captcha: captchaOf(input) }, requestMeta(ctx));
  }, { byCode: { invalid_phone: 'phone' } }));

  router.post('/:flowId/phone/verify', kit.form, kit.step(forms.phoneVerify, render, async (ctx, input) => {
    await deps.registration.verifyPhone(kit.flowRef(ctx), { code: input.code });
  }, { byCode: { code_invalid: 'code', code_attempts_exceeded: 'code' } }));

  router.post('/:flowId/factors', kit.form, kit.step(forms.factor, render, async (ctx, input) => {
    await deps.registration.verifyFactor(kit.flowRef(ctx), { kind: input.kind, number: input.number, reservedPhone: input.reserved_phone || undefined, captcha: captchaOf(input) }, requestMeta(ctx));
  }, { byCode: { factor_mismatch: 'number', factor_duplicate: 'kind', invalid_phone: 'reserved_phone' } }));

  router.post('/:flowId/complete', kit.form, kit.step(forms.complete, render, async (ctx, input) => {
    if (input.password !== input.confirm) throw new AppError('invalid_input', { field: 'confirm' });
    await deps.registration.complete(kit.flowRef(ctx), { password: input.password, acceptAgreement: input.accept_agreement === 'yes', withoutPhone: input.without_phone === 'yes' }, requestMeta(ctx));
  }, { byCode: { weak_password: 'password', agreement_required: 'accept_agreement' } }));

  return router;
}
