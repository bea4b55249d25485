import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { enterpriseView } from '../../enterprises/enterprises.js';
import { enterpriseOverview, enterpriseSchemas } from '../api/enterprises.js';
import { captchaImage } from '../captcha-image.js';
import { noStore } from '../middleware/security-headers.js';
import { requestMeta } from '../request-meta.js';
import { pageKit, type ShowPage } from './page-kit.js';
import type { AccountCentreDependencies } from './routes.js';
import { captchaOf } from './schemas.js';

const registerForm = enterpriseSchemas.register.omit({ on_behalf: true }).extend({ on_behalf: z.literal('yes').optional() });
const csrfOnly = z.object({});

/**
 * Enterprises in the account centre (/account/enterprises): register one, finish or decide
 * applications, and, for the legal representative, the enterprise and its password.
 */
export function enterprisePages(deps: AccountCentreDependencies, form: Middleware): Router {
  const router = new Router({ prefix: '/account/enterprises' });
  const kit = pageKit({ provider: () => deps.providers.current, accounts: deps.accounts, pages: deps.pages, csrf: deps.csrf });
  const registration = deps.enterpriseRegistration;
  const applicationId = (ctx: Context) => ctx.params.applicationId ?? '';
  const enterpriseId = (ctx: Context) => ctx.params.enterpriseId ?? '';
  const notice = (ctx: Context) => (typeof ctx.query.done === 'string' && /^[a-z_]{1,32}$/.test(ctx.query.done) ? `enterprise.done_${ctx.query.done}` : undefined);

  async function captcha(ctx: Context) {
    return await deps.smsCodes.captchaRequired(ctx.ip) ? await captchaImage(deps.captchas) : undefined;
  }

  const showList: ShowPage = async (ctx, who, extra = {}, status = 200) => {
    kit.render(ctx, who, 'account-enterprises', { ...await enterpriseOverview(deps, who), notice: notice(ctx), captcha: await captcha(ctx), ...extra }, status);
  };

  const showApplication: ShowPage = async (ctx, who, extra = {}, status = 200) => {
    const application = await registration.application(who, applicationId(ctx));
    kit.render(ctx, who, 'account-enterprise-application', {
      application, mine: (await registration.listFor(who)).mine.some((a) => a.id === application.id),
      sentTo: typeof ctx.query.sent === 'string' && /^1\d{2}\*{4}\d{4}$/.test(ctx.query.sent) ? ctx.query.sent : undefined,
      notice: notice(ctx), captcha: await captcha(ctx), ...extra,
    }, status);
  };

  const showEnterprise: ShowPage = async (ctx, who, extra = {}, status = 200) => {
    const enterprise = enterpriseView(await deps.enterprises.heldBy(enterpriseId(ctx), who.accountId));
    kit.render(ctx, who, 'account-enterprise', {
      enterprise, profile: await deps.accountOverview.overview(who.accountId, who.release), codeSent: ctx.query.sent === '1', notice: notice(ctx), captcha: await captcha(ctx), ...extra,
    }, status);
  };

  const toApplication = (id: string, query = '') => `/account/enterprises/applications/${encodeURIComponent(id)}${query}`;

  router.use(noStore);

  router.get('/', kit.view((ctx, who) => showList(ctx, who)));

  router.post('/', form, kit.action(registerForm, showList, async (ctx, who, input) => {
    const started = await registration.start(who, { uscc: input.uscc, name: input.name, onBehalf: input.on_behalf === 'yes' }, { ip: ctx.ip, captcha: captchaOf(input) }, requestMeta(ctx));
    kit.redirect(ctx, toApplication(started.application.id, started.code_sent_to ? `?sent=${encodeURIComponent(started.code_sent_to)}` : '?done=application_started'));
  }, {
    byCode: {
      invalid_uscc: 'uscc', enterprise_not_in_registry: 'uscc', enterprise_not_active: 'uscc', enterprise_already_registered: 'uscc', enterprise_application_pending: 'uscc', enterprise_name_mismatch: 'name',
    },
  }));

  router.get('/applications/:applicationId', kit.view((ctx, who) => showApplication(ctx, who)));

  router.post('/applications/:applicationId/code', form, kit.action(enterpriseSchemas.captchaOnly, showApplication, async (ctx, who, input) => {
    const sent = await registration.sendCode(who, applicationId(ctx), { ip: ctx.ip, captcha: captchaOf(input) });
    kit.redirect(ctx, toApplication(applicationId(ctx), `?sent=${encodeURIComponent(sent.code_sent_to)}`));
  }));

  router.post('/applications/:applicationId/confirm', form, kit.action(enterpriseSchemas.code, showApplication, async (ctx, who, input) => {
    const done = await registration.confirm(who, applicationId(ctx), input.code, requestMeta(ctx));
    kit.redirect(ctx, `/account/enterprises/${encodeURIComponent(done.enterprise_id)}?done=registered`);
  }, { byCode: { code_invalid: 'code', code_attempts_exceeded: 'code' } }));

  router.post('/applications/:applicationId/approve', form, kit.action(csrfOnly, showApplication, async (ctx, who) => {
    const done = await registration.approve(who.accountId, applicationId(ctx), requestMeta(ctx));
    kit.redirect(ctx, `/account/enterprises/${encodeURIComponent(done.enterprise_id)}?done=registered`);
  }));

  router.post('/applications/:applicationId/reject', form, kit.action(csrfOnly, showApplication, async (ctx, who) => {
    await registration.reject(who.accountId, applicationId(ctx), requestMeta(ctx));
    kit.redirect(ctx, '/account/enterprises?done=application_rejected');
  }));

  router.post('/applications/:applicationId/withdraw', form, kit.action(csrfOnly, showApplication, async (ctx, who) => {
    await registration.withdraw(who.accountId, applicationId(ctx), requestMeta(ctx));
    kit.redirect(ctx, '/account/enterprises?done=application_withdrawn');
  }));

  router.get('/:enterpriseId', kit.view((ctx, who) => showEnterprise(ctx, who)));

  router.post('/:enterpriseId/password/code', form, kit.action(enterpriseSchemas.captchaOnly, showEnterprise, async (ctx, who, input) => {
    await deps.enterprises.heldBy(enterpriseId(ctx), who.accountId);
    await deps.ownerCodes.send(who.accountId, 'enterprise_password', who.key, { ip: ctx.ip, captcha: captchaOf(input) });
    kit.redirect(ctx, `/account/enterprises/${encodeURIComponent(enterpriseId(ctx))}?sent=1`);
  }));

  router.post('/:enterpriseId/password', form, kit.action(enterpriseSchemas.password, showEnterprise, async (ctx, who, input) => {
    await deps.enterpriseLogin.setPassword(who.accountId, enterpriseId(ctx), input, who.key, requestMeta(ctx));
    kit.redirect(ctx, `/account/enterprises/${encodeURIComponent(enterpriseId(ctx))}?done=password_set`);
  }));

  return router;
}
