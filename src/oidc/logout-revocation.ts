import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import type { AuditLog } from '../audit/audit-log.js';
import type { Logger } from '../log.js';

const CONFIRM_PATH = '/session/end/confirm';

interface SessionSeen {
  accountId: string;
  /** Client id → grant id, for every client signed in with the session. */
  grants: Record<string, string>;
  /** The client that asked for the logout (RP-initiated), if any. */
  clientId: string | undefined;
}

/**
 * RP-initiated logout keeps the promise every other way of ending a session keeps: the
 * grants made in the session are revoked, offline ones (refresh tokens with
 * `offline_access`) included, which oidc-provider would otherwise let outlive the logout.
 * "退出所有" ends every client's grant; "只退出本应用" the asking client's. The act is
 * audited (`session.logout`).
 */
export function revokeGrantsAtLogout(provider: Provider, deps: { revokeGrants: (grantIds: string[]) => Promise<void>; audit: AuditLog; logger: Logger }): void {
  provider.use(async (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== CONFIRM_PATH) return next();
    const seen = await sessionSeen(provider, ctx as unknown as KoaContextWithOIDC);
    await next();
    // A refused confirmation (a forged form, an expired one) is answered with an error page; only a redirect ended the session.
    if (!seen || ctx.status < 300 || ctx.status >= 400) return;
    const everywhere = (ctx as unknown as KoaContextWithOIDC).oidc?.params?.logout !== undefined;
    const grantIds = everywhere ? Object.values(seen.grants) : seen.clientId && seen.grants[seen.clientId] ? [seen.grants[seen.clientId]!] : [];
    try {
      await deps.revokeGrants(grantIds);
      await deps.audit.append({
        actor: { kind: 'citizen', id: seen.accountId }, action: 'session.logout', target: { kind: 'account', id: seen.accountId }, result: 'success',
        details: { client_id: seen.clientId, scope: everywhere ? 'all' : 'one', grants: grantIds.length },
        meta: { ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, requestId: ctx.state?.requestId as string | undefined },
      });
    } catch (error) {
      deps.logger.error({ err: error }, 'could not revoke the grants of a session ended by its client');
      throw error;
    }
  });
}

async function sessionSeen(provider: Provider, ctx: KoaContextWithOIDC): Promise<SessionSeen | undefined> {
  const session = await provider.Session.get(ctx);
  if (!session.accountId) return undefined;
  const grants: Record<string, string> = {};
  for (const [clientId, authorization] of Object.entries(session.authorizations ?? {})) {
    if (typeof authorization.grantId === 'string') grants[clientId] = authorization.grantId;
  }
  const state = (session as { state?: { clientId?: string } }).state;
  return { accountId: session.accountId, grants, clientId: state?.clientId };
}
