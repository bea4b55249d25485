import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import QRCode from 'qrcode';
import { z } from 'zod';
import type { PendingTotp } from '../../identity/totp-enrolment.js';
import { captchaImage } from '../captcha-image.js';
import { noStore } from '../middleware/security-headers.js';
import { requestMeta } from '../request-meta.js';
import { pageKit, type ShowPage } from './page-kit.js';
import type { AccountCentreDependencies } from './routes.js';
import { accountSchemas, captchaOf } from './schemas.js';

const csrfOnly = z.object({});
const recoveryForm = z.object({ recovery_code: z.string().trim().min(1).max(20), sms_code: z.string().trim().min(1).max(10) });

/** The secret as an authenticator app takes it: a QR code (a data: URL, allowed by the CSP) and in groups of four. */
export async function totpSetupView(pending: PendingTotp) {
  return {
    qr: await QRCode.toDataURL(pending.uri, { errorCorrectionLevel: 'M', margin: 2, width: 240 }),
    secretGroups: pending.secret.match(/.{1,4}/g)?.join(' ') ?? pending.secret,
    uri: pending.uri,
    minutes: Math.max(1, Math.ceil(pending.expiresIn / 60)),
  };
}

/**
 * Two-step verification: turn on (a pending secret shown as a QR code, confirmed by a
 * code, recovery codes shown once) and turn off (a current code, or a recovery code
 * with an SMS code to the bound phone).
 */
export function totpPages(deps: AccountCentreDependencies, form: Middleware): Router {
  const router = new Router({ prefix: '/account/totp' });
  const kit = pageKit({ provider: () => deps.providers.current, accounts: deps.accounts, pages: deps.pages, csrf: deps.csrf });

  const show: ShowPage = async (ctx: Context, who, extra = {}, status = 200) => {
    const profile = await deps.accountOverview.overview(who.accountId, who.release);
    const pending = profile.totp_enabled ? undefined : await deps.totpEnrolment.pending(who.accountId);
    kit.render(ctx, who, 'account-totp', {
      profile,
      setup: pending ? await totpSetupView(pending) : undefined,
      codeSent: ctx.query.sent === '1',
      done: typeof ctx.query.done === 'string' && ['disabled'].includes(ctx.query.done) ? `account.done_totp_${ctx.query.done}` : undefined,
      captcha: profile.totp_enabled && await deps.smsCodes.captchaRequired(ctx.ip) ? await captchaImage(deps.captchas) : undefined,
      ...extra,
    }, status);
  };

  router.use(noStore);

  router.get('/', kit.view((ctx, who) => show(ctx, who)));

  router.post('/start', form, kit.action(csrfOnly, show, async (ctx, who) => {
    await deps.totpEnrolment.start(who.accountId);
    kit.redirect(ctx, '/account/totp');
  }));

  // Rendered, not redirected: the recovery codes exist in clear only in this one answer.
  router.post('/confirm', form, kit.action(accountSchemas.totpConfirm, show, async (ctx, who, input) => {
    const recoveryCodes = await deps.totpEnrolment.confirm(who.accountId, { code: input.code }, requestMeta(ctx));
    await show(ctx, who, { recoveryCodes });
  }));

  // Rendered, like the first ones: the new codes exist in clear only in this answer.
  router.post('/recovery-codes', form, kit.action(accountSchemas.code, show, async (ctx, who, input) => {
    const recoveryCodes = await deps.totpEnrolment.regenerateRecoveryCodes(who.accountId, { code: input.code }, requestMeta(ctx));
    await show(ctx, who, { recoveryCodes, regenerated: true });
  }));

  router.post('/disable', form, kit.action(accountSchemas.code, show, async (ctx, who, input) => {
    await deps.totpEnrolment.disable(who.accountId, { kind: 'totp', code: input.code }, requestMeta(ctx));
    kit.redirect(ctx, '/account/totp?done=disabled');
  }));

  router.post('/disable/code', form, kit.action(accountSchemas.captchaOnly, show, async (ctx, who, input) => {
    await deps.ownerCodes.send(who.accountId, 'totp_disable', who.key, { ip: ctx.ip, captcha: captchaOf(input) });
    kit.redirect(ctx, '/account/totp?sent=1');
  }));

  router.post('/disable/recovery', form, kit.action(recoveryForm, show, async (ctx, who, input) => {
    await deps.totpEnrolment.disable(who.accountId, { kind: 'recovery_code', recoveryCode: input.recovery_code, smsCode: input.sms_code, principal: who.key }, requestMeta(ctx));
    kit.redirect(ctx, '/account/totp?done=disabled');
  }));

  return router;
}
