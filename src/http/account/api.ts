import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import { AppError } from '../../errors.js';
import { noStore } from '../middleware/security-headers.js';
import { parseInput, requestMeta } from '../request-meta.js';
import { ACCOUNT_API, bearerPrincipal, type AccountPrincipal } from './principal.js';
import type { AccountCentreDependencies } from './routes.js';
import { accountSchemas, captchaOf } from './schemas.js';
import { totpSetupView } from './totp-pages.js';

/** Koa state once the bearer token is checked. */
export interface AccountApiState {
  principal: AccountPrincipal;
}

export function principalOf(ctx: Context): AccountPrincipal {
  return (ctx.state as AccountApiState).principal;
}

/** Every account API route: a valid bearer token with the `account` scope first, no-store always. */
export function bearerGuard(deps: Pick<AccountCentreDependencies, 'providers' | 'accounts' | 'acting'>): Middleware {
  return async (ctx: Context, next: Next) => {
    (ctx.state as AccountApiState).principal = await bearerPrincipal({ provider: deps.providers.current, accounts: deps.accounts, acting: deps.acting }, ctx, ACCOUNT_API);
    await next();
  };
}

/**
 * The account centre as JSON for the app and the mini-program (Authorization: Bearer
 * <access token>). Same services, same rules and the same error codes as the pages; no
 * CSRF tokens, since a bearer token is never sent by a browser on its own.
 */
export function accountApi(deps: AccountCentreDependencies, json: Middleware): Router {
  const router = new Router({ prefix: '/api/v1/account' });
  const meta = requestMeta;

  router.use(noStore);
  router.use(bearerGuard(deps));

  router.get('/', async (ctx) => {
    const who = principalOf(ctx);
    ctx.body = await deps.accountOverview.overview(who.accountId, who.release);
  });

  router.get('/sessions', async (ctx) => {
    const who = principalOf(ctx);
    ctx.body = { sessions: await deps.accountSessions.list(who.accountId, { sessionUid: who.sessionUid }) };
  });

  router.delete('/sessions/:handle', async (ctx) => {
    const who = principalOf(ctx);
    const ended = await deps.accountSessions.endByHandle(who.accountId, ctx.params.handle ?? '');
    if (!ended.ended) throw new AppError('session_not_found');
    await deps.audit.append({
      actor: { kind: 'citizen', id: who.accountId }, action: 'session.end', target: { kind: 'account', id: who.accountId }, result: 'success',
      details: { scope: 'one', grants: ended.grants.length }, meta: meta(ctx),
    });
    ctx.status = 204;
  });

  /** Everything, this token included: the app is signed out too. */
  router.delete('/sessions', async (ctx) => {
    const who = principalOf(ctx);
    const revoked = await deps.accountSessions.revokeAll(who.accountId);
    await deps.audit.append({
      actor: { kind: 'citizen', id: who.accountId }, action: 'session.end', target: { kind: 'account', id: who.accountId }, result: 'success',
      details: { scope: 'all', sessions: revoked.sessions.length, grants: revoked.grants.length }, meta: meta(ctx),
    });
    ctx.status = 204;
  });

  router.get('/events', async (ctx) => {
    const events = await deps.securityEvents.recent(principalOf(ctx).accountId, 50);
    ctx.body = { events: events.map((e) => ({ at: new Date(e.at).toISOString(), action: e.action, result: e.result, details: e.details })) };
  });

  router.post('/password', json, async (ctx) => {
    const who = principalOf(ctx);
    const input = parseInput(accountSchemas.password, ctx.request.body);
    const revoked = await deps.passwordChange.change(who.accountId, { current: input.current_password, next: input.new_password }, who.keep, meta(ctx));
    ctx.body = { revoked_sessions: revoked.sessions, revoked_grants: revoked.grants, ...(revoked.pending ? { logins_pending: true } : {}) };
  });

  router.post('/codes', json, async (ctx) => {
    const who = principalOf(ctx);
    const input = parseInput(accountSchemas.sendCode, ctx.request.body);
    const sent = await deps.ownerCodes.send(who.accountId, input.operation, who.key, { ip: ctx.ip, captcha: captchaOf(input) });
    ctx.body = { ttl_seconds: sent.ttlSeconds, phone_masked: sent.phoneMasked };
  });

  router.patch('/profile', json, async (ctx) => {
    const who = principalOf(ctx);
    const input = parseInput(accountSchemas.address, ctx.request.body);
    await deps.addressChange.change(who.accountId, { address: input.address, code: input.code }, who.key, meta(ctx));
    ctx.body = await deps.accountOverview.overview(who.accountId, who.release);
  });

  router.post('/totp', async (ctx) => {
    const pending = await deps.totpEnrolment.start(principalOf(ctx).accountId);
    const view = await totpSetupView(pending);
    ctx.status = 201;
    ctx.body = { secret: pending.secret, otpauth_uri: pending.uri, qr_code: view.qr, expires_in: pending.expiresIn };
  });

  router.post('/totp/confirm', json, async (ctx) => {
    const input = parseInput(accountSchemas.totpConfirm, ctx.request.body);
    const codes = await deps.totpEnrolment.confirm(principalOf(ctx).accountId, { code: input.code }, meta(ctx));
    ctx.body = { totp_enabled: true, recovery_codes: codes };
  });

  router.post('/totp/recovery-codes', json, async (ctx) => {
    const input = parseInput(accountSchemas.totpConfirm, ctx.request.body);
    const codes = await deps.totpEnrolment.regenerateRecoveryCodes(principalOf(ctx).accountId, { code: input.code }, meta(ctx));
    ctx.body = { recovery_codes: codes };
  });

  router.post('/totp/disable', json, async (ctx) => {
    const who = principalOf(ctx);
    const input = parseInput(accountSchemas.totpDisable, ctx.request.body);
    const proof = 'code' in input
      ? { kind: 'totp' as const, code: input.code }
      : { kind: 'recovery_code' as const, recoveryCode: input.recovery_code, smsCode: input.sms_code, principal: who.key };
    await deps.totpEnrolment.disable(who.accountId, proof, meta(ctx));
    ctx.body = { totp_enabled: false };
  });

  router.get('/export', async (ctx) => {
    const who = principalOf(ctx);
    const document = await deps.accountOverview.export(who.accountId, who.release, meta(ctx));
    ctx.set('Content-Disposition', 'attachment; filename="account-export.json"');
    ctx.body = document;
  });

  router.post('/deregister', json, async (ctx) => {
    const who = principalOf(ctx);
    const input = parseInput(accountSchemas.deregister, ctx.request.body);
    await deps.deregistration.deregister(who.accountId, { code: input.code }, who.key, meta(ctx));
    ctx.status = 204;
  });

  return router;
}
