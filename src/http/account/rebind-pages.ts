import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { z } from 'zod';
import { typedBack, type ErrorPlaces } from '../form-action.js';
import { documentFactorKinds } from '../api/registration.js';
import { captchaImage } from '../captcha-image.js';
import { noStore } from '../middleware/security-headers.js';
import { requestMeta } from '../request-meta.js';
import { pageKit, type PagePrincipal, type ShowPage } from './page-kit.js';
import type { AccountCentreDependencies } from './routes.js';
import { accountSchemas, captchaOf } from './schemas.js';

/**
 * Changing the bound phone in the browser: choose a path, then one page that shows the
 * flow's current step. The flow (flows/phone-rebinding.ts) decides what may happen next;
 * it continues only in the SSO session that started it.
 */
export function rebindPages(deps: AccountCentreDependencies, form: Middleware): Router {
  const router = new Router({ prefix: '/account/phone' });
  const kit = pageKit({ provider: () => deps.providers.current, accounts: deps.accounts, pages: deps.pages, csrf: deps.csrf });
  const ref = (ctx: Context) => ({ id: ctx.params.flowId ?? '', channel: 'browser' as const });
  const back = (ctx: Context, query = '') => `/account/phone/${encodeURIComponent(ref(ctx).id)}${query}`;

  const showStart: ShowPage = async (ctx, who, extra = {}, status = 200) => {
    kit.render(ctx, who, 'account-phone', { profile: await deps.accountOverview.overview(who.accountId, who.release), ...extra }, status);
  };

  const showFlow: ShowPage = async (ctx, who, extra = {}, status = 200) => {
    const view = await deps.phoneRebinding.get(ref(ctx), who);
    const needsCaptcha = ['old_code', 'new_code'].includes(view.state) && await deps.smsCodes.captchaRequired(ctx.ip);
    kit.render(ctx, who, 'account-phone', {
      profile: await deps.accountOverview.overview(who.accountId, who.release),
      view,
      kinds: documentFactorKinds.filter((kind) => !view.verified_factors.some((f) => f.kind === kind)),
      codeSent: ctx.query.sent === '1',
      captcha: needsCaptcha ? await captchaImage(deps.captchas) : undefined,
      ...extra,
    }, status);
  };

  /** A step of the flow: on success back to the flow's page, on an input error shown there, beside its field. */
  function step<T>(schema: z.ZodType<T>, run: (ctx: Context, who: PagePrincipal, input: T) => Promise<string | void>, places?: ErrorPlaces) {
    return kit.action(schema, showFlow, async (ctx, who, input) => {
      const query = await run(ctx, who, input);
      kit.redirect(ctx, back(ctx, query ?? ''));
    }, places);
  }
  const codePlaces: ErrorPlaces = { byCode: { code_invalid: 'code', code_attempts_exceeded: 'code' } };

  router.use(noStore);

  router.get('/', kit.view((ctx, who) => showStart(ctx, who)));

  router.post('/', form, kit.action(accountSchemas.rebindStart, showStart, async (ctx, who, input) => {
    const view = await deps.phoneRebinding.start(who, input.path, 'browser');
    kit.redirect(ctx, `/account/phone/${view.flow_id}`);
  }));

  router.get('/:flowId', kit.view((ctx, who) => showFlow(ctx, who)));

  router.post('/:flowId/old/code', form, step(accountSchemas.captchaOnly, async (ctx, who, input) => {
    await deps.phoneRebinding.sendOldCode(ref(ctx), who, { captcha: captchaOf(input) }, requestMeta(ctx));
    return '?sent=1';
  }));

  router.post('/:flowId/old/verify', form, step(accountSchemas.code, async (ctx, who, input) => {
    await deps.phoneRebinding.verifyOldCode(ref(ctx), who, { code: input.code });
  }, codePlaces));

  router.post('/:flowId/identity', form, step(accountSchemas.identity, async (ctx, who, input) => {
    await deps.phoneRebinding.submitIdentity(ref(ctx), who, { name: input.name, idNumber: input.id_number });
  }));

  router.post('/:flowId/factors', form, step(accountSchemas.factor, async (ctx, who, input) => {
    await deps.phoneRebinding.verifyFactor(ref(ctx), who, { kind: input.kind, number: input.number, reservedPhone: input.reserved_phone || undefined });
  }, { byCode: { factor_mismatch: 'number', factor_duplicate: 'kind', invalid_phone: 'reserved_phone' } }));

  // Posted by 获取验证码 in the form that also takes the code: the page comes back with the number as typed.
  router.post('/:flowId/new/code', form, kit.action(accountSchemas.newPhone, showFlow, async (ctx, who, input) => {
    await deps.phoneRebinding.sendNewCode(ref(ctx), who, { phone: input.phone, captcha: captchaOf(input) }, requestMeta(ctx));
    await showFlow(ctx, who, { codeSent: true, typed: typedBack(ctx.request.body) });
  }, { byCode: { invalid_phone: 'phone', phone_unchanged: 'phone' } }));

  router.post('/:flowId/new/verify', form, step(accountSchemas.code, async (ctx, who, input) => {
    await deps.phoneRebinding.verifyNewCode(ref(ctx), who, { code: input.code }, requestMeta(ctx));
  }, codePlaces));

  return router;
}
