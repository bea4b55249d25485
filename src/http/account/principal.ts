import type { Context } from 'koa';
import type { Provider } from 'oidc-provider';
import { AppError, type ErrorCode } from '../../errors.js';
import type { Accounts } from '../../identity/accounts.js';
import type { KeepSignedIn } from '../../oidc/account-sessions.js';
import type { ActingAuthority } from '../../delegation/acting-authority.js';
import { actsNow } from '../../oidc/acting-identity.js';
import { ACCOUNT_SCOPE } from '../../oidc/configuration/claims.js';
import { releaseTo } from '../../oidc/account-claims.js';
import { OWNER_RELEASE, type Release } from '../../identity/release.js';

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
  /** What the reader may have whole: the owner on our pages, else what the client's access policy allows. */
  release: Release;
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
    release: OWNER_RELEASE,
  };
}

/** What checks a bearer token: the provider that issued it, the accounts, and the authority its grant acts under. */
export interface BearerIssuer {
  provider: Provider;
  accounts: Accounts;
  acting: ActingAuthority;
}

const BEARER = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)$/i;

/** What a JSON API asks of a bearer token beyond being valid: its scope, and the codes it refuses with. */
export interface BearerRequirement {
  scope: string;
  /** The token carries the scope, but its client is not (or no longer) registered for it. */
  clientRefused: ErrorCode;
  /** The client may have it, but this token was not issued with it. */
  scopeMissing: ErrorCode;
}

/** The citizen's own account APIs: the first-party `account` scope. */
export const ACCOUNT_API: BearerRequirement = {
  scope: ACCOUNT_SCOPE, clientRefused: 'account_client_not_allowed', scopeMissing: 'account_scope_missing',
};

/**
 * An opaque access token our provider issued for our own APIs (not for a resource server:
 * no audience), with scopes openid and the one the API needs, still valid, whose grant
 * still exists, whose client is still registered for that scope and whose account is
 * active. A token issued to a department's service never opens these APIs, whatever it
 * carries: the scope is granted only to clients that list it (oidc/configuration/claims.ts)
 * and checked again here, so a client's registration withdrawn later counts at once.
 * An invalid token is a 401 with the same answer whatever is wrong with it, so a caller
 * learns nothing about a token it does not hold; a valid one for the wrong API is a 403.
 */
export async function bearerPrincipal({ provider, accounts, acting }: BearerIssuer, ctx: Context, needs: BearerRequirement): Promise<AccountPrincipal> {
  const refuse = () => {
    ctx.set('WWW-Authenticate', 'Bearer realm="account"');
    return new AppError('unauthenticated');
  };
  const value = BEARER.exec(ctx.get('authorization'))?.[1];
  if (!value) throw refuse();
  const token = await provider.AccessToken.find(value);
  if (!token || token.isExpired || !token.accountId || !token.grantId || !token.clientId) throw refuse();
  // A token with an audience was issued for a resource server's API, not for ours.
  if (token.aud !== undefined) throw refuse();
  const scopes = String(token.scope ?? '').split(' ').filter(Boolean);
  if (!scopes.includes('openid')) throw refuse();
  if (!await provider.Grant.find(token.grantId)) throw refuse();
  // As /me does: a token without offline_access lives only as long as the session it was issued in.
  if (token.expiresWithSession) {
    const session = token.sessionUid ? await provider.Session.findByUid(token.sessionUid) : undefined;
    if (!session || session.accountId !== token.accountId || session.grantIdFor(token.clientId) !== token.grantId) throw refuse();
  }
  if (!await active(accounts, token.accountId)) throw refuse();
  // A token issued while acting for an enterprise ends with that authority (expired, cancelled, representative replaced).
  if (!await actsNow(acting, token)) throw refuse();
  const client = await provider.Client.find(token.clientId);
  if (!client) throw refuse();
  if (!client.scope?.split(' ').includes(needs.scope)) throw new AppError(needs.clientRefused);
  if (!scopes.includes(needs.scope)) {
    ctx.set('WWW-Authenticate', `Bearer realm="account", error="insufficient_scope", scope="${needs.scope}"`);
    throw new AppError(needs.scopeMissing);
  }
  return {
    accountId: token.accountId,
    key: `grant:${token.grantId}`,
    keep: { grantIds: [token.grantId], ...(token.sessionUid ? { sessionUid: token.sessionUid } : {}) },
    ...(token.sessionUid ? { sessionUid: token.sessionUid } : {}),
    token: { clientId: token.clientId, scopes },
    clientId: token.clientId,
    release: releaseTo(client),
  };
}
