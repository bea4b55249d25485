import type { Context } from 'koa';
import type { Provider } from 'oidc-provider';
import { AppError } from '../../errors.js';
import type { Accounts } from '../../identity/accounts.js';
import type { KeepSignedIn } from '../../oidc/account-sessions.js';

/** Who is using the account centre, and with what. */
export interface AccountPrincipal {
  accountId: string;
  /**
   * What SMS codes are bound to (see identity/owner-codes.ts): the SSO session for pages,
   * the grant behind the bearer token for the API.
   */
  key: string;
  /** What a password change must leave signed in. */
  keep: KeepSignedIn;
  /** Pages only: the SSO session's id (never shown) and uid (CSRF tokens are bound to it). */
  session?: { id: string; uid: string };
  /** API only: the uid of the SSO session the token was issued in, if any. */
  sessionUid?: string;
  /** API only: the client the token was issued to and the scopes it carries. */
  token?: { clientId: string; scopes: string[] };
  /** API only: the client the bearer token was issued to. */
  clientId?: string;
}

async function active(accounts: Accounts, accountId: string | undefined): Promise<boolean> {
  if (!accountId) return false;
  const row = await accounts.row(accountId);
  return row?.status === 'active';
}

/**
 * The citizen signed in to the provider in this browser, read from the SSO session
 * cookie without an OIDC request; undefined when there is none or the account is no
 * longer active (banned, deregistered).
 */
export async function sessionPrincipal(provider: Provider, accounts: Accounts, ctx: Context): Promise<AccountPrincipal | undefined> {
  const session = await provider.Session.get(ctx);
  if (!session.accountId || !await active(accounts, session.accountId)) return undefined;
  const grantIds = Object.values(session.authorizations ?? {}).map((a) => a.grantId).filter((id): id is string => typeof id === 'string');
  return {
    accountId: session.accountId,
    key: `session:${session.uid}`,
    keep: { sessionId: session.jti, grantIds },
    session: { id: session.jti, uid: session.uid },
  };
}

const BEARER = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)$/i;

/**
 * An opaque access token our provider issued, to any of our clients, with scope openid,
 * still valid, whose grant still exists and whose account is active. Anything else is a
 * 401 with the same answer, so a caller learns nothing about a token it does not hold.
 */
export async function bearerPrincipal(provider: Provider, accounts: Accounts, ctx: Context): Promise<AccountPrincipal> {
  const refuse = () => {
    ctx.set('WWW-Authenticate', 'Bearer realm="account"');
    return new AppError('unauthenticated');
  };
  const value = BEARER.exec(ctx.get('authorization'))?.[1];
  if (!value) throw refuse();
  const token = await provider.AccessToken.find(value);
  if (!token || token.isExpired || !token.accountId || !token.grantId) throw refuse();
  const scopes = String(token.scope ?? '').split(' ').filter(Boolean);
  if (!scopes.includes('openid')) throw refuse();
  if (!await provider.Grant.find(token.grantId)) throw refuse();
  // As /me does: a token without offline_access lives only as long as the session it was issued in.
  if (token.expiresWithSession) {
    const session = token.sessionUid ? await provider.Session.findByUid(token.sessionUid) : undefined;
    if (!session || session.accountId !== token.accountId || session.grantIdFor(token.clientId!) !== token.grantId) throw refuse();
  }
  if (!await active(accounts, token.accountId)) throw refuse();
  return {
    accountId: token.accountId,
    key: `grant:${token.grantId}`,
    keep: { grantIds: [token.grantId], ...(token.sessionUid ? { sessionUid: token.sessionUid } : {}) },
    ...(token.sessionUid ? { sessionUid: token.sessionUid } : {}),
    token: { clientId: token.clientId!, scopes },
    ...(token.clientId ? { clientId: token.clientId } : {}),
  };
}
