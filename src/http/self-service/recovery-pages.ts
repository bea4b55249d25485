import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { AppError } from '../../errors.js';
import type { Recovery } from '../../flows/recovery.js';
import type { Locale } from '../../i18n/messages.js';
import type { Captchas } from '../../verification/captcha.js';
import type { SmsCodes } from '../../verification/sms-codes.js';
import { recoverySchemas } from '../api/recovery.js';
import type { CsrfTokens } from '../csrf.js';
import { captchaImage } from '../captcha-image.js';
import { noStore } from '../middleware/security-headers.js';
import type { PageRenderer } from '../render.js';
import { requestMeta } from '../request-meta.js';
import { FlowPages, withCsrf } from './flow-pages.js';

export interface RecoveryPageDependencies {
  recovery: Recovery;
  pages: PageRenderer;
  csrf: CsrfTokens;
  smsCodes: SmsCodes;
  captchas: Captchas;
}

const forms = {
  identity: withCsrf(recoverySchemas.identity.shape),
  resend: withCsrf(recoverySchemas.resend.shape),
  code: withCsrf(recoverySchemas.code.shape),
  password: withCsrf({ password: z.string().min(1).max(256), confirm: z.string().min(1).max(256) }),
};

/** Password recovery in the browser: the same flow and service as the JSON API. */
export function recoveryPages(deps: RecoveryPageDependencies): Router {
  const router = new Router({ prefix: '/recovery' });
  const kit = new FlowPages('/recovery', 'recovery', deps.csrf);

  async function render(ctx: Context, extra: Record<string, unknown> = {}, status = 200) {
    const view = await deps.recovery.get(kit.flowRef(ctx));
    const sending = view.state === 'identity' || view.state === 'code_sent';
    deps.pages.render(ctx, 'recovery', ctx.state.locale as Locale, {
      view,
      ...kit.common(ctx, view.flow_id),
      captcha: sending && await deps.smsCodes.captchaRequired(ctx.ip) ? await captchaImage(deps.captchas) : undefined,
      ...extra,
    }, status);
  }

  router.use(noStore);
  kit.start(router, (starter) => deps.recovery.start(starter));

  // sent=1 after every code sent (the countdown to the next), again=1 after a second one.
  router.get('/:flowId', async (ctx) => {
    await render(ctx, { codeSent: ctx.query.sent === '1', resent: ctx.query.again === '1' });
  });

  router.post('/:flowId/identity', kit.form, kit.step(forms.identity, render, async (ctx, input) => {
    await deps.recovery.submitIdentity(kit.flowRef(ctx), {
      name: input.name, idNumber: input.id_number, captcha: { id: input.captcha_id, answer: input.captcha_answer },
    }, requestMeta(ctx));
    return { sent: '1' };
  }));

  router.post('/:flowId/code/resend', kit.form, kit.step(forms.resend, render, async (ctx, input) => {
    await deps.recovery.resendCode(kit.flowRef(ctx), { captcha: { id: input.captcha_id, answer: input.captcha_answer } }, requestMeta(ctx));
    return { sent: '1', again: '1' };
  }));

  router.post('/:flowId/code', kit.form, kit.step(forms.code, render, async (ctx, input) => {
    await deps.recovery.verifyCode(kit.flowRef(ctx), { code: input.code });
  }, { byCode: { code_invalid: 'code', code_attempts_exceeded: 'code' } }));

  router.post('/:flowId/password', kit.form, kit.step(forms.password, render, async (ctx, input) => {
    if (input.password !== input.confirm) throw new AppError('invalid_input', { field: 'confirm' });
    await deps.recovery.setPassword(kit.flowRef(ctx), { password: input.password }, requestMeta(ctx));
  }, { byCode: { weak_password: 'password' } }));

  return router;
}
