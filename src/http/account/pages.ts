import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { AppError } from '../../errors.js';
import type { OwnerOperation } from '../../identity/owner-codes.js';
import type { Locale } from '../../i18n/messages.js';
import { captchaImage } from '../captcha-image.js';
import { typedBack } from '../form-action.js';
import { noStore } from '../middleware/security-headers.js';
import { requestMeta } from '../request-meta.js';
import { clientIdsOf, describeEventDetails } from './event-details.js';
import { pageKit, type ShowPage } from './page-kit.js';
import type { AccountCentreDependencies } from './routes.js';
import { accountSchemas, captchaOf } from './schemas.js';

const csrfOnly = z.object({});
const passwordForm = accountSchemas.password.extend({ confirm: z.string().min(1).max(256) });
const deregisterForm = accountSchemas.deregister.extend({ confirm: z.literal('yes') });

/**
 * The account centre pages: overview, sessions, security events, password, address,
 * export and deregistration. Every page is no-store; every form carries a CSRF token
 * bound to the SSO session; each post redirects back (a reload never resubmits) or shows
 * its error on the page it came from.
 */
export function accountPages(deps: AccountCentreDependencies, form: Middleware): Router {
  const router = new Router({ prefix: '/account' });
  const kit = pageKit({ provider: () => deps.providers.current, accounts: deps.accounts, pages: deps.pages, csrf: deps.csrf });
  const notice = (ctx: Context) => (typeof ctx.query.done === 'string' && /^[a-z_]{1,32}$/.test(ctx.query.done) ? `account.done_${ctx.query.done}` : undefined);

  async function captcha(ctx: Context) {
    return await deps.smsCodes.captchaRequired(ctx.ip) ? await captchaImage(deps.captchas) : undefined;
  }

  async function clientNames(ids: string[]): Promise<Record<string, string>> {
    const names = await Promise.all(ids.map(async (id) => [id, (await deps.providers.current.Client.find(id))?.clientName ?? id] as const));
    return Object.fromEntries(names);
  }

  const showOverview: ShowPage = async (ctx, who, extra = {}, status = 200) => {
    kit.render(ctx, who, 'account', { profile: await deps.accountOverview.overview(who.accountId, who.release), notice: notice(ctx), ...extra }, status);
  };

  const showSessions: ShowPage = async (ctx, who, extra = {}, status = 200) => {
    const sessions = await deps.accountSessions.list(who.accountId, { sessionId: who.session.id });
    const names = await clientNames([...new Set(sessions.flatMap((s) => s.clients))]);
    kit.render(ctx, who, 'account-sessions', { sessions, names, notice: notice(ctx), ...extra }, status);
  };

  const showPassword: ShowPage = async (ctx, who, extra = {}, status = 200) => {
    kit.render(ctx, who, 'account-password', { notice: notice(ctx), ...extra }, status);
  };

  const showProfile: ShowPage = async (ctx, who, extra = {}, status = 200) => {
    kit.render(ctx, who, 'account-profile', {
      profile: await deps.accountOverview.overview(who.accountId, who.release), codeSent: ctx.query.sent === '1', notice: notice(ctx), captcha: await captcha(ctx), ...extra,
    }, status);
  };

  const showDeregister: ShowPage = async (ctx, who, extra = {}, status = 200) => {
    kit.render(ctx, who, 'account-deregister', {
      profile: await deps.accountOverview.overview(who.accountId, who.release), codeSent: ctx.query.sent === '1', captcha: await captcha(ctx), ...extra,
    }, status);
  };

  /**
   * Sends a code to the bound phone for one operation and shows its page again with what
   * the person had already typed on the same form (the 获取验证码 button posts the whole
   * form here), so that asking for the code never costs them their input.
   */
  function sendCode(operation: OwnerOperation, show: ShowPage) {
    return kit.action(accountSchemas.captchaOnly.passthrough(), show, async (ctx, who, input) => {
      await deps.ownerCodes.send(who.accountId, operation, who.key, { ip: ctx.ip, captcha: captchaOf(input) });
      await show(ctx, who, { codeSent: true, typed: typedBack(ctx.request.body) });
    });
  }

  /** The page for people who are signed out now, with nothing of the account left to show. */
  function farewell(ctx: Context, message: string) {
    deps.pages.render(ctx, 'account-done', ctx.state.locale as Locale, { message });
  }

  router.use(noStore);

  router.get('/', kit.view((ctx, who) => showOverview(ctx, who)));

  router.get('/sessions', kit.view((ctx, who) => showSessions(ctx, who)));

  router.post('/sessions/end-all', form, kit.action(csrfOnly, showSessions, async (ctx, who) => {
    const revoked = await deps.accountSessions.revokeAll(who.accountId);
    await deps.audit.append({
      actor: { kind: 'citizen', id: who.accountId }, action: 'session.end', target: { kind: 'account', id: who.accountId }, result: 'success',
      details: { scope: 'all', sessions: revoked.sessions.length, grants: revoked.grants.length }, meta: requestMeta(ctx),
    });
    farewell(ctx, 'account.signed_out_everywhere');
  }));

  router.post('/sessions/:handle/end', form, kit.action(csrfOnly, showSessions, async (ctx, who) => {
    const handle = ctx.params.handle ?? '';
    const ended = await deps.accountSessions.endByHandle(who.accountId, handle);
    if (!ended.ended) throw new AppError('session_not_found');
    await deps.audit.append({
      actor: { kind: 'citizen', id: who.accountId }, action: 'session.end', target: { kind: 'account', id: who.accountId }, result: 'success',
      details: { scope: 'one', grants: ended.grants.length }, meta: requestMeta(ctx),
    });
    // Signing out this very browser ends up at the sign-in page, as it should.
    kit.redirect(ctx, '/account/sessions?done=session_ended');
  }));

  router.get('/events', kit.view(async (ctx, who) => {
    const events = await deps.securityEvents.recent(who.accountId, 50);
    const names = await clientNames(clientIdsOf(events));
    const locale = ctx.state.locale as Locale;
    kit.render(ctx, who, 'account-events', { events: events.map((e) => ({ ...e, lines: describeEventDetails(locale, e.details, names) })) });
  }));

  router.get('/password', kit.view((ctx, who) => showPassword(ctx, who)));

  router.post('/password', form, kit.action(passwordForm, showPassword, async (ctx, who, input) => {
    if (input.new_password !== input.confirm) throw new AppError('invalid_input', { field: 'confirm' });
    await deps.passwordChange.change(who.accountId, { current: input.current_password, next: input.new_password }, who.keep, requestMeta(ctx));
    kit.redirect(ctx, '/account/password?done=password_changed');
  }));

  router.get('/profile', kit.view((ctx, who) => showProfile(ctx, who)));

  router.post('/profile/code', form, sendCode('profile', showProfile));

  router.post('/profile', form, kit.action(accountSchemas.address, showProfile, async (ctx, who, input) => {
    await deps.addressChange.change(who.accountId, { address: input.address, code: input.code }, who.key, requestMeta(ctx));
    kit.redirect(ctx, '/account/profile?done=profile_updated');
  }));

  router.post('/export', form, kit.action(csrfOnly, showOverview, async (ctx, who) => {
    const document = await deps.accountOverview.export(who.accountId, who.release, requestMeta(ctx));
    ctx.type = 'application/json; charset=utf-8';
    ctx.set('Content-Disposition', 'attachment; filename="account-export.json"');
    ctx.body = JSON.stringify(document, null, 2);
  }));

  router.get('/deregister', kit.view((ctx, who) => showDeregister(ctx, who)));

  router.post('/deregister/code', form, sendCode('deregister', showDeregister));

  router.post('/deregister', form, kit.action(deregisterForm, showDeregister, async (ctx, who, input) => {
    await deps.deregistration.deregister(who.accountId, { code: input.code }, who.key, requestMeta(ctx));
    farewell(ctx, 'account.deregistered');
  }));

  return router;
}
