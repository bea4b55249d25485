import { formBody } from '../body.js';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Provider } from 'oidc-provider';
import { z } from 'zod';
import { enterpriseLoginAllowed, type EnterpriseLogin } from '../../enterprises/enterprise-login.js';
import { AppError } from '../../errors.js';
import type { PendingLogin, PendingLogins } from '../../flows/pending-login.js';
import type { Locale } from '../../i18n/messages.js';
import { acrFor } from '../../oidc/account-claims.js';
import { actAsEnterprise } from '../../oidc/acting-identity.js';
import type { Captchas } from '../../verification/captcha.js';
import type { SmsCodes } from '../../verification/sms-codes.js';
import { captchaImage } from '../captcha-image.js';
import type { CsrfTokens } from '../csrf.js';
import { noStore } from '../middleware/security-headers.js';
import type { PageRenderer } from '../render.js';
import { parseInput, requestMeta } from '../request-meta.js';
import { finishInteraction, keepOnPage, loadInteraction } from './details.js';
import { continueLogin } from './pending-steps.js';

export interface EnterpriseLoginDependencies {
  provider: () => Provider;
  pages: PageRenderer;
  csrf: CsrfTokens;
  smsCodes: SmsCodes;
  captchas: Captchas;
  enterpriseLogin: EnterpriseLogin;
  pending: PendingLogins;
  /** ENTERPRISE_ACCOUNT_LOGIN=on */
  deploymentAllows: boolean;
}

const passwordForm = z.object({
  csrf: z.string(), uscc: z.string().trim().min(1).max(32), password: z.string().min(1).max(256),
  captcha_id: z.string().max(64).optional(), captcha_answer: z.string().max(16).optional(),
});
const codeForm = z.object({ csrf: z.string(), code: z.string().trim().min(1).max(10) });
const resendForm = z.object({ csrf: z.string(), captcha_id: z.string().max(64).optional(), captcha_answer: z.string().max(16).optional() });

/** Whether a client may offer enterprise-account login here; the login page links to it only then. */
export function enterpriseLoginOffered(provider: () => Provider, deploymentAllows: boolean) {
  return async (clientId: string): Promise<boolean> => {
    if (!deploymentAllows) return false;
    const client = await provider().Client.find(clientId);
    return enterpriseLoginAllowed(deploymentAllows, (client as { access_policy?: unknown } | undefined)?.access_policy);
  };
}

/**
 * Enterprise-account login (/interaction/:uid/enterprise): the unified social credit
 * code and the enterprise password, then the code sent to the legal representative's
 * bound phone. The login completes as the representative's own account, with the
 * enterprise recorded as the identity chosen (oidc/acting-identity.ts).
 */
export function enterpriseLoginRoutes(deps: EnterpriseLoginDependencies): Router {
  const router = new Router({ prefix: '/interaction/:uid/enterprise' });
  const form = formBody();
  const offered = enterpriseLoginOffered(deps.provider, deps.deploymentAllows);

  /** The login step of this interaction, for a client and deployment that allow enterprise login. */
  async function load(ctx: Context) {
    const details = await loadInteraction(deps.provider(), ctx, 'login');
    if (!await offered(String(details.params.client_id))) throw new AppError('enterprise_login_disabled');
    return details;
  }

  /**
   * The password form carries a captcha when the code it sends needs one (this address has
   * sent a few), or when the credit code typed has failed a few times.
   */
  async function render(ctx: Context, uid: string, extra: { uscc?: string } & Record<string, unknown> = {}, status = 200) {
    const needsCaptcha = await deps.smsCodes.captchaRequired(ctx.ip) || (extra.uscc !== undefined && await deps.enterpriseLogin.captchaRequired(extra.uscc));
    deps.pages.render(ctx, 'login-enterprise', ctx.state.locale as Locale, {
      uid, csrf: deps.csrf.issue(uid), codeStep: await deps.enterpriseLogin.waitingForCode(uid),
      captcha: needsCaptcha ? await captchaImage(deps.captchas) : undefined, ...extra,
    }, status);
  }

  /** Errors about what was typed stay on the page, with what was typed; anything else goes to the error page. */
  const onPage = (ctx: Context, uid: string, keep: Record<string, unknown>, work: () => Promise<void>) =>
    keepOnPage(ctx, (error, status) => render(ctx, uid, { ...keep, error }, status), work, ['enterprise_login_disabled']);

  router.use(noStore);

  router.get('/', async (ctx) => {
    const details = await load(ctx);
    await render(ctx, details.uid);
  });

  router.post('/password', form, async (ctx) => {
    const details = await load(ctx);
    const input = parseInput(passwordForm, ctx.request.body);
    deps.csrf.verify(details.uid, input.csrf);
    await onPage(ctx, details.uid, { uscc: input.uscc }, async () => {
      const sent = await deps.enterpriseLogin.withPassword(details.uid, input, { ip: ctx.ip, captcha: { id: input.captcha_id, answer: input.captcha_answer } }, requestMeta(ctx));
      await render(ctx, details.uid, { codeStep: true, sentTo: sent.code_sent_to });
    });
  });

  router.post('/code/send', form, async (ctx) => {
    const details = await load(ctx);
    const input = parseInput(resendForm, ctx.request.body);
    deps.csrf.verify(details.uid, input.csrf);
    await onPage(ctx, details.uid, {}, async () => {
      const sent = await deps.enterpriseLogin.resendCode(details.uid, { ip: ctx.ip, captcha: { id: input.captcha_id, answer: input.captcha_answer } });
      await render(ctx, details.uid, { sentTo: sent.code_sent_to });
    });
  });

  router.post('/code', form, async (ctx) => {
    const details = await load(ctx);
    const input = parseInput(codeForm, ctx.request.body);
    deps.csrf.verify(details.uid, input.csrf);
    await onPage(ctx, details.uid, {}, async () => {
      const { enterpriseId, ...first } = await deps.enterpriseLogin.withCode(details.uid, input.code, requestMeta(ctx));
      // The identity choice is made by this login: the tokens act for the enterprise (oidc/acting-identity.ts).
      const pending: PendingLogin = { ...first, amr: ['pwd', 'sms'], totpDone: false, actAs: { enterpriseId } };
      await continueLogin(ctx, deps.pending, details.uid, pending, () => finishInteraction(deps.provider(), ctx, {
        login: { accountId: pending.accountId, acr: acrFor(pending.assuranceLevel), amr: pending.amr, remember: false },
        ...actAsEnterprise(enterpriseId),
      }));
    });
  });

  return router;
}
