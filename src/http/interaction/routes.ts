import { formBody } from '../body.js';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { InteractionResults, Provider } from 'oidc-provider';
import { z } from 'zod';
import { AppError } from '../../errors.js';
import type { PendingLogin, PendingLogins } from '../../flows/pending-login.js';
import { nextStep } from '../../flows/pending-login.js';
import type { Authentication, FirstFactorResult } from '../../identity/authentication.js';
import type { AccountProfile, Accounts } from '../../identity/accounts.js';
import type { Passwords } from '../../identity/passwords.js';
import { isMessageKey, type Locale } from '../../i18n/messages.js';
import { acrFor } from '../../oidc/account-claims.js';
import { actAsEnterprise } from '../../oidc/acting-identity.js';
import { withCredentials } from '../../oidc/resume-guard.js';
import type { Captchas } from '../../verification/captcha.js';
import type { SmsCodes } from '../../verification/sms-codes.js';
import { captchaImage } from '../captcha-image.js';
import type { CsrfTokens } from '../csrf.js';
import { noStore } from '../middleware/security-headers.js';
import type { PageRenderer } from '../render.js';
import { parseInput, requestMeta } from '../request-meta.js';
import { STEP_UP_REASON } from '../../oidc/configuration/policy.js';
import { isPolicyRefusal, refusalView, stepUpView } from './policy-views.js';
import type { QrLogins } from '../../flows/qr-login.js';
import { mountQrLogin, qrCodeView } from './qr-login.js';
import { finishInteraction, keepOnPage, loadInteraction } from './details.js';
import type { FederationHooks } from './federation.js';

export interface InteractionDependencies {
  provider: () => Provider;
  pages: PageRenderer;
  csrf: CsrfTokens;
  authentication: Authentication;
  accounts: Accounts;
  passwords: Passwords;
  pending: PendingLogins;
  smsCodes: SmsCodes;
  captchas: Captchas;
  qrLogins: QrLogins;
  /** Whether the login page links to enterprise-account login for this client (see enterprise-login.ts). */
  enterpriseLoginOffered?: (clientId: string) => Promise<boolean>;
  /** Login through upstream identity providers (federation.ts), when configured. */
  federation?: FederationHooks;
  /** The government app's link that takes a QR login's payload, offered on phones; unset: not offered. */
  appOpenUrl?: string;
}

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

/** Remaining tries from which a refused password warns of the lock. */
const ATTEMPTS_WARNING_FROM = 5;

// The identifier and phone may be left out only in a step-up, where the signed-in account gives them.
const passwordForm = z.object({
  csrf: z.string(), identifier: z.string().trim().min(1).max(64).optional(), password: z.string().min(1).max(256),
  captcha_id: z.string().max(64).optional(), captcha_answer: z.string().max(16).optional(),
});
const smsSendForm = z.object({ csrf: z.string(), phone: z.string().trim().min(1).max(20).optional(), captcha_id: z.string().max(64).optional(), captcha_answer: z.string().max(16).optional() });
const smsLoginForm = z.object({ csrf: z.string(), phone: z.string().trim().min(1).max(20).optional(), code: z.string().trim().min(1).max(10) });
const totpForm = z.object({ csrf: z.string(), code: z.string().trim().min(1).max(20) });
const passwordChangeForm = z.object({ csrf: z.string(), password: z.string().min(1).max(256), confirm: z.string().min(1).max(256) });
const csrfOnly = z.object({ csrf: z.string() });

/**
 * The pages oidc-provider sends people to. Each handler loads the interaction from its
 * cookie, checks that the URL names the same interaction and that the step it acts on is
 * the one the provider is waiting for, and only then acts.
 */
export function interactionRoutes(deps: InteractionDependencies): Router {
  const router = new Router({ prefix: '/interaction' });
  const form = formBody();

  function load(ctx: Context, expectedPrompt?: string): Promise<Details> {
    return loadInteraction(deps.provider(), ctx, expectedPrompt);
  }

  async function clientName(details: Details): Promise<string> {
    const client = await deps.provider().Client.find(String(details.params.client_id));
    return client?.clientName ?? String(details.params.client_id);
  }

  const finish = (ctx: Context, result: InteractionResults) => finishInteraction(deps.provider(), ctx, result);
  const qrCode = qrCodeView({ qrLogins: deps.qrLogins, clientName, appOpenUrl: deps.appOpenUrl });

  /**
   * In a step-up the person is signed in already: the stronger login is theirs, so their ID
   * number and phone come from the account, not typed again (and cannot be someone else's).
   */
  async function stepUpAccount(details: Details): Promise<AccountProfile | undefined> {
    const accountId = details.session?.accountId;
    if (!accountId || !details.prompt.reasons.includes(STEP_UP_REASON)) return undefined;
    const profile = await deps.accounts.profile(accountId);
    return profile?.status === 'active' ? profile : undefined;
  }

  /** What a login form names: in a step-up the signed-in account's own (whatever was typed), else what was typed. */
  async function named(details: Details, typed: string | undefined, field: 'idNumber' | 'phone'): Promise<string> {
    const signedIn = await stepUpAccount(details);
    const value = signedIn ? signedIn[field] : typed;
    if (!value) throw new AppError(field === 'phone' ? 'invalid_phone' : 'invalid_input', { field: field === 'phone' ? 'phone' : 'identifier' });
    return value;
  }

  /** Renders the login page again, with an error or a note, keeping what the person typed. */
  async function renderLogin(ctx: Context, details: Details, extra: Record<string, unknown> = {}, status = 200): Promise<void> {
    const needsCaptcha = await deps.smsCodes.captchaRequired(ctx.ip);
    const name = await clientName(details);
    // A client's policy may need a stronger login than the session has: say so, offer only what satisfies it.
    const stepUp = stepUpView(details, ctx.state.locale as Locale, name);
    const signedIn = stepUp ? await stepUpAccount(details) : undefined;
    deps.pages.render(ctx, 'login', ctx.state.locale as Locale, {
      uid: details.uid,
      csrf: deps.csrf.issue(details.uid),
      clientName: name,
      loginHint: typeof details.params.login_hint === 'string' ? details.params.login_hint : '',
      captcha: needsCaptcha ? await captchaImage(deps.captchas) : undefined,
      tab: 'password',
      enterpriseLogin: await deps.enterpriseLoginOffered?.(String(details.params.client_id)) ?? false,
      ...(await deps.federation?.loginPage(details.uid)),
      ...extra,
      stepUp,
      ...(stepUp && !stepUp.password ? { tab: 'sms' } : {}),
      ...(signedIn ? { stepUpAccount: { idNumberMasked: signedIn.masked.idNumber, ...(signedIn.masked.phone ? { phoneMasked: signedIn.masked.phone } : {}) } } : {}),
      // On a phone the QR tab is hidden: the app on the same phone takes the login instead (the QR page's link).
      appHandoff: Boolean(deps.appOpenUrl) && !stepUp,
    }, status);
  }

  /** Step errors stay on the page that caused them; anything else goes to the error page. */
  const onPage = (ctx: Context, page: (error: { code: string; message: string }, status: number) => Promise<void>, work: () => Promise<void>) => keepOnPage(ctx, page, work);

  /**
   * A login paused after its first factor continues only while the account is as that
   * factor found it. A ban, reset or deregistration since ends it: the paused step is
   * forgotten and the login page says why.
   */
  async function stillAdmitted(ctx: Context, details: Details, pending: PendingLogin): Promise<boolean> {
    try {
      await deps.authentication.recheck(pending, requestMeta(ctx));
      return true;
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      await deps.pending.clear(details.uid);
      await renderLogin(ctx, details, { error: { code: error.code, message: error.messageIn(ctx.state.locale as Locale) } }, error.status);
      return false;
    }
  }

  /** Every factor done: hand the account to the provider with how it was proven, if it still may. */
  async function complete(ctx: Context, details: Details, pending: PendingLogin): Promise<void> {
    await deps.pending.clear(details.uid);
    await deps.authentication.recheck(pending, requestMeta(ctx));
    await deps.federation?.afterLocalLogin(details.uid, pending.accountId, requestMeta(ctx));
    const amr = pending.amr.includes('otp') ? [...pending.amr, 'mfa'] : pending.amr;
    await deps.authentication.recordSuccess(pending, amr, String(details.params.client_id), requestMeta(ctx));
    // The credentials it was proven with go along: the provider asks again when the browser comes back.
    await finish(ctx, withCredentials({
      // An enterprise-account login is not remembered beyond the browser session.
      login: { accountId: pending.accountId, acr: acrFor(pending.assuranceLevel), amr, remember: !pending.actAs },
      ...(pending.actAs ? actAsEnterprise(pending.actAs.enterpriseId) : {}),
    }, pending.credentialStamp));
  }

  async function advance(ctx: Context, details: Details, pending: PendingLogin): Promise<void> {
    if (nextStep(pending) === 'done') {
      await complete(ctx, details, pending);
      return;
    }
    await deps.pending.save(details.uid, pending);
    ctx.status = 303;
    ctx.redirect(`/interaction/${details.uid}`);
  }

  function firstFactor(result: FirstFactorResult): PendingLogin {
    return { ...result, amr: [result.method], totpDone: false };
  }

  router.use(noStore);

  router.get('/:uid', async (ctx) => {
    const details = await load(ctx);
    const locale = ctx.state.locale as Locale;
    const common = { uid: details.uid, csrf: deps.csrf.issue(details.uid), clientName: await clientName(details) };
    if (details.prompt.name === 'login') {
      const pending = await deps.pending.get(details.uid);
      const step = pending ? nextStep(pending) : undefined;
      if (step === 'totp') return deps.pages.render(ctx, 'login-totp', locale, common);
      if (step === 'password_change') return deps.pages.render(ctx, 'login-password-change', locale, common);
      if (ctx.query.tab === 'sms' || ctx.query.tab === 'password') return renderLogin(ctx, details, { tab: ctx.query.tab });
      // No tab chosen: the page carries the QR code and the password form, and the stylesheet shows the
      // one that suits the screen (views/login.eta). A step-up has no QR tab: the password (or SMS) first.
      if (details.prompt.reasons.includes(STEP_UP_REASON)) return renderLogin(ctx, details);
      // A reload (or the phone, whose stylesheet hides the code) keeps the live code: no new one per view.
      return renderLogin(ctx, details, { tab: 'by_device', qr: await qrCode(ctx, details, await deps.qrLogins.current(details.uid) ?? undefined) });
    }
    if (isPolicyRefusal(details)) {
      return deps.pages.render(ctx, 'policy-refused', locale, { ...common, ...refusalView(details, locale, common.clientName) }, 403);
    }
    if (details.prompt.name === 'consent') {
      // Native apps are asked every time (RFC 8252 §8.6): another app could claim their redirect.
      const missing = details.prompt.details.missingOIDCScope as string[] | undefined;
      const requested = String(details.params.scope ?? '').split(' ').filter((scope) => isMessageKey(`scope.${scope}`));
      return deps.pages.render(ctx, 'consent', locale, { ...common, scopes: missing?.length ? missing : requested });
    }
    // Whom to act as (self or an enterprise): see identity-choice.ts.
    if (details.prompt.name === 'select_account') return ctx.redirect(`/interaction/${details.uid}/identity`);
    throw new AppError('wrong_step');
  });

  /**
   * What the password form shows after a refusal, from one lookup of what was typed: its
   * captcha once one is needed, and a warning once few tries remain before the lock.
   * Unknown identifiers are counted alike, so neither tells whether an account exists.
   */
  async function passwordFormAfter(identifier: string, code: string): Promise<Record<string, unknown>> {
    if (code !== 'login_failed' && code !== 'captcha_required' && code !== 'captcha_invalid') return {};
    const standing = await deps.authentication.passwordStanding(identifier);
    return {
      ...(standing.captchaRequired ? { passwordCaptcha: await captchaImage(deps.captchas) } : {}),
      ...(code === 'login_failed' && standing.attemptsLeft > 0 && standing.attemptsLeft <= ATTEMPTS_WARNING_FROM
        ? { attemptsLeft: standing.attemptsLeft, lockMinutes: standing.lockMinutes } : {}),
    };
  }

  router.post('/:uid/login/password', form, async (ctx) => {
    const details = await load(ctx, 'login');
    const input = parseInput(passwordForm, ctx.request.body);
    deps.csrf.verify(details.uid, input.csrf);
    // After a few failures the password form asks for a captcha: the refusal shows one.
    const page = async (error: { code: string; message: string }, status: number) => renderLogin(ctx, details, {
      error, identifier: input.identifier, ...await passwordFormAfter((await stepUpAccount(details))?.idNumber ?? input.identifier ?? '', error.code),
    }, status);
    await onPage(ctx, page, async () => {
      const identifier = await named(details, input.identifier, 'idNumber');
      const result = await deps.authentication.withPassword({ ...input, identifier, captcha: { id: input.captcha_id, answer: input.captcha_answer } }, requestMeta(ctx));
      await advance(ctx, details, firstFactor(result));
    });
  });

  router.post('/:uid/login/sms/send', form, async (ctx) => {
    const details = await load(ctx, 'login');
    const input = parseInput(smsSendForm, ctx.request.body);
    deps.csrf.verify(details.uid, input.csrf);
    await onPage(ctx, (error, status) => renderLogin(ctx, details, { tab: 'sms', error, phone: input.phone }, status), async () => {
      await deps.authentication.sendLoginCode({ phone: await named(details, input.phone, 'phone'), flowId: details.uid, captcha: { id: input.captcha_id, answer: input.captcha_answer } }, requestMeta(ctx));
      await renderLogin(ctx, details, { tab: 'sms', phone: input.phone, codeSent: true });
    });
  });

  router.post('/:uid/login/sms', form, async (ctx) => {
    const details = await load(ctx, 'login');
    const input = parseInput(smsLoginForm, ctx.request.body);
    deps.csrf.verify(details.uid, input.csrf);
    await onPage(ctx, (error, status) => renderLogin(ctx, details, { tab: 'sms', error, phone: input.phone, codeSent: true }, status), async () => {
      const result = await deps.authentication.withSmsCode({ phone: await named(details, input.phone, 'phone'), code: input.code, flowId: details.uid }, requestMeta(ctx));
      await advance(ctx, details, firstFactor(result));
    });
  });

  router.post('/:uid/login/totp', form, async (ctx) => {
    const details = await load(ctx, 'login');
    const input = parseInput(totpForm, ctx.request.body);
    deps.csrf.verify(details.uid, input.csrf);
    const pending = await deps.pending.get(details.uid);
    if (!pending || nextStep(pending) !== 'totp') throw new AppError('wrong_step');
    if (!await stillAdmitted(ctx, details, pending)) return;
    const page = async (error?: { code: string; message: string }, status?: number) => deps.pages.render(ctx, 'login-totp', ctx.state.locale as Locale, {
      uid: details.uid, csrf: deps.csrf.issue(details.uid), clientName: await clientName(details), error,
    }, status);
    await onPage(ctx, page, async () => {
      await deps.authentication.withTotp(pending.accountId, { code: input.code }, requestMeta(ctx));
      await advance(ctx, details, { ...pending, totpDone: true, amr: [...pending.amr, 'otp'] });
    });
  });

  router.post('/:uid/login/password-change', form, async (ctx) => {
    const details = await load(ctx, 'login');
    const input = parseInput(passwordChangeForm, ctx.request.body);
    deps.csrf.verify(details.uid, input.csrf);
    const pending = await deps.pending.get(details.uid);
    if (!pending || nextStep(pending) !== 'password_change') throw new AppError('wrong_step');
    if (!await stillAdmitted(ctx, details, pending)) return;
    const page = async (error?: { code: string; message: string }, status?: number) => deps.pages.render(ctx, 'login-password-change', ctx.state.locale as Locale, {
      uid: details.uid, csrf: deps.csrf.issue(details.uid), clientName: await clientName(details), error,
    }, status);
    await onPage(ctx, page, async () => {
      if (input.password !== input.confirm) throw new AppError('invalid_input', { field: 'confirm' });
      let changed: { credentialStamp: string };
      try {
        changed = await deps.passwords.set(pending.accountId, input.password, { reason: 'forced_change', ...(pending.credentialStamp ? { expectStamp: pending.credentialStamp } : {}) }, requestMeta(ctx));
      } catch (error) {
        // Banned or reset while this page was open: the login ends, as at any other step.
        if (error instanceof AppError && (error.code === 'login_restart' || error.code === 'account_banned') && !await stillAdmitted(ctx, details, pending)) return;
        throw error;
      }
      // The change itself moved the stamp; nothing else may have since.
      await complete(ctx, details, { ...pending, mustChangePassword: false, credentialStamp: changed.credentialStamp });
    });
  });

  router.post('/:uid/confirm', form, async (ctx) => {
    const details = await load(ctx, 'consent');
    const input = parseInput(csrfOnly, ctx.request.body);
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
    const details = await load(ctx);
    await deps.pending.clear(details.uid);
    await finish(ctx, { error: 'access_denied', error_description: 'End-User aborted interaction' });
  });

  mountQrLogin(router, form, { qrLogins: deps.qrLogins, csrf: deps.csrf, load, clientName, renderLogin, onPage, complete, appOpenUrl: deps.appOpenUrl });

  return router;
}
