import { errors, type FindAccount, type KoaContextWithOIDC, type Provider, type TokenEndpointGrantContext } from 'oidc-provider';
import type { RequestMeta } from '../audit/audit-log.js';
import { WECHAT_CODE } from '../ports/wechat/index.js';
import type { WebLoginStep, WechatLogin } from '../wechat/wechat-login.js';
import { policyOfClient } from './access-policy.js';
import { acrFor } from './account-claims.js';
import { scopes as SUPPORTED_SCOPES } from './configuration/claims.js';

/**
 * The mini-program's grant: `grant_type=urn:civic-idp:grant-type:wechat&code=<wx.login code>`.
 * A custom grant type rather than RFC 8693 token exchange: a WeChat code is not a token
 * about a subject issued by a party we federate with, but a one-time code only our app
 * secret can redeem; and the answer is a full login (access, ID and refresh tokens), not
 * one exchanged token of a `requested_token_type`. Keeping RFC 8693's grant type free
 * also leaves it for real token exchange (delegation) later.
 */
export const WECHAT_GRANT_TYPE = 'urn:civic-idp:grant-type:wechat';
export const WECHAT_UNBOUND = 'wechat_unbound';
export const WECHAT_WEB_LOGIN_REQUIRED = 'wechat_web_login_required';

/** WeChat login proves control of a WeChat account bound after a real-name login: level 2 at most. */
const WECHAT_LEVEL = 2;

/** An unbound identity: the answer carries the ticket that lets the mini-program bind it once. */
class WechatUnbound extends errors.CustomOIDCProviderError {
  constructor(readonly ticket: string, readonly expiresIn: number) {
    super(WECHAT_UNBOUND, 'this WeChat identity is not bound to a real-name account: sign in once in the web-view, then POST the binding_ticket to /api/v1/account/wechat with that login\'s access token');
  }
}

/**
 * The bound account asks for a step only the login page takes (its TOTP, or changing a
 * password staff set): the mini-program opens its web-view on an ordinary authorization
 * request, whose tokens it then uses. `required_step` says which, for the message it shows.
 */
class WechatWebLoginRequired extends errors.CustomOIDCProviderError {
  constructor(readonly step: WebLoginStep) {
    super(WECHAT_WEB_LOGIN_REQUIRED, step === 'totp'
      ? 'this account uses two-step verification, which WeChat login cannot do: sign in through the authorization endpoint in the web-view'
      : 'this account must change the password set by the service desk: sign in through the authorization endpoint in the web-view');
  }
}

/** WeChat could not be asked; the mini-program should try again later. */
class WechatUnavailable extends errors.CustomOIDCProviderError {
  constructor() {
    super('temporarily_unavailable', 'WeChat could not be reached; try again later');
    Object.assign(this, { status: 503, statusCode: 503 });
  }
}

/** `invalid_grant` with a description the mini-program can show (InvalidGrant's own is fixed). */
function invalidGrant(description: string) {
  return new errors.CustomOIDCProviderError('invalid_grant', description);
}

function requestMetaOf(ctx: KoaContextWithOIDC): RequestMeta {
  return { ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, requestId: ctx.state?.requestId as string | undefined };
}

/** `openid` and only scopes both the provider and this client know. */
function grantedScope(ctx: TokenEndpointGrantContext): string {
  const requested = [...new Set(String(ctx.oidc.params.scope ?? 'openid').split(' ').filter(Boolean))];
  if (!requested.includes('openid')) throw new errors.InvalidScope('the openid scope is required', 'openid');
  const clientScopes = (ctx.oidc.client.metadata().scope as string | undefined)?.split(' ');
  const unknown = requested.filter((scope) => !SUPPORTED_SCOPES.includes(scope) || (clientScopes && !clientScopes.includes(scope)));
  if (unknown.length > 0) throw new errors.InvalidScope('requested scope is not allowed for this client', unknown.join(' '));
  return requested.join(' ');
}

/** The client's access policy, as the authorization endpoint would apply it. */
function checkPolicy(ctx: TokenEndpointGrantContext, accountId: string): void {
  const policy = policyOfClient(ctx.oidc.client!);
  if (policy.login_methods && !policy.login_methods.includes('wechat')) throw new errors.UnauthorizedClient('this client does not accept WeChat login');
  if (policy.min_assurance_level > WECHAT_LEVEL) throw invalidGrant(`this client needs assurance level ${policy.min_assurance_level}; WeChat login gives level ${WECHAT_LEVEL}`);
  if (!policy.entity_types.includes('natural')) throw new errors.UnauthorizedClient('this client does not serve natural persons');
  if (policy.deny_accounts.includes(accountId) || (policy.allow_accounts && !policy.allow_accounts.includes(accountId))) {
    throw new errors.AccessDenied('this account may not use this client');
  }
}

export interface WechatGrantDependencies {
  /** Undefined when WECHAT=off: the grant type exists (clients may list it) but refuses. */
  login: WechatLogin | undefined;
  findAccount: FindAccount;
}

/**
 * Registers the grant. Tokens are issued as the authorization code grant issues them: a
 * grant for the scopes, an opaque access token, a refresh token when the client may
 * refresh, and an ID token with `amr: ["wechat"]`. There is no SSO session behind them,
 * so they do not end with one; banning the account or unbinding ends them.
 */
export function registerWechatGrant(provider: Provider, deps: WechatGrantDependencies): void {
  provider.registerGrantType(WECHAT_GRANT_TYPE, async (ctx) => {
    const { client } = ctx.oidc;
    if (!deps.login) throw new errors.UnsupportedGrantType('WeChat login is not configured');
    const code = ctx.oidc.params.code;
    if (typeof code !== 'string' || code === '') throw new errors.InvalidRequest('missing required parameter \'code\'');
    if (!WECHAT_CODE.test(code)) throw invalidGrant('WeChat code is invalid, expired or already used');
    const scope = grantedScope(ctx);

    const outcome = await deps.login.login(code, client.clientId, requestMetaOf(ctx));
    switch (outcome.kind) {
      case 'refused':
        throw invalidGrant(outcome.reason === 'user_blocked' ? 'WeChat refuses this user' : 'WeChat code is invalid, expired or already used');
      case 'unavailable':
        throw new WechatUnavailable();
      case 'unbound':
        throw new WechatUnbound(outcome.ticket, outcome.expiresIn);
      case 'inactive':
        throw invalidGrant(outcome.status === 'banned' ? 'the account bound to this WeChat identity is banned; contact the service desk' : 'the account bound to this WeChat identity is closed');
      case 'web_login_required':
        throw new WechatWebLoginRequired(outcome.step);
      case 'ok':
        break;
    }
    checkPolicy(ctx, outcome.accountId);

    const account = await deps.findAccount(ctx, outcome.accountId);
    if (!account) throw invalidGrant('the account bound to this WeChat identity is not active');
    ctx.oidc.entity('Account', account);

    const grant = new provider.Grant({ accountId: account.accountId, clientId: client.clientId });
    grant.addOIDCScope(scope);
    const grantId = await grant.save();
    ctx.oidc.entity('Grant', grant);

    const acr = acrFor(Math.min(outcome.assuranceLevel, WECHAT_LEVEL));
    const amr = ['wechat'];
    const authTime = Math.floor(Date.now() / 1000);
    const at = new provider.AccessToken({ accountId: account.accountId, client, grantId, gty: WECHAT_GRANT_TYPE, scope, expiresWithSession: false });
    ctx.oidc.entity('AccessToken', at);
    const accessToken = await at.save();

    let refreshToken: string | undefined;
    if (client.grantTypeAllowed('refresh_token')) {
      const rt = new provider.RefreshToken({
        accountId: account.accountId, client, grantId, gty: WECHAT_GRANT_TYPE, scope, acr, amr, authTime, expiresWithSession: false, rotations: 0,
      });
      ctx.oidc.entity('RefreshToken', rt);
      refreshToken = await rt.save();
    }

    const claims = await account.claims('id_token', scope, {}, []);
    const idToken = new provider.IdToken({ ...claims, sub: account.accountId, acr, amr, auth_time: authTime }, { ctx });
    // As oidc-provider does with conformIdTokenClaims: scope claims go to userinfo, not into the ID token.
    Object.assign(idToken, { scope: 'openid', mask: {}, rejected: [] });

    ctx.body = {
      access_token: accessToken,
      expires_in: at.expiration,
      token_type: at.tokenType,
      scope,
      id_token: await idToken.issue({ use: 'idtoken' }),
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
    };
  }, ['code', 'scope']);

  // The error body is oidc-provider's own; the unbound answer gains the ticket, the web-login one its step.
  provider.on('grant.error', (ctx, error) => {
    if (!ctx.body || typeof ctx.body !== 'object') return;
    if (error instanceof WechatUnbound) Object.assign(ctx.body, { binding_ticket: error.ticket, binding_ticket_expires_in: error.expiresIn });
    if (error instanceof WechatWebLoginRequired) Object.assign(ctx.body, { required_step: error.step });
  });
}
