import { errors, type Provider } from 'oidc-provider';
import type { AuditLog } from '../audit/audit-log.js';
import type { Logger } from '../log.js';

/** oidc-provider's detail for a rotated refresh token presented again. */
const REUSE_DETAIL = 'refresh token already used';

/**
 * A refresh token presented after it was rotated is a replay: oidc-provider revokes the
 * whole login (its grant) and refuses. The security record says so, with the account, the
 * client and the grant, for whoever investigates a stolen token.
 */
export function auditRefreshReuse(provider: Provider, audit: AuditLog, logger: Logger): void {
  // The event only marks the request; the record is written before the answer leaves, so
  // a replay is on record by the time its client hears invalid_grant.
  provider.on('grant.error', (ctx, error) => {
    if (!(error instanceof errors.InvalidGrant) || (error as { error_detail?: string }).error_detail !== REUSE_DETAIL) return;
    const token = ctx.oidc.entities.RefreshToken;
    (ctx.state as { refreshReuse?: ReuseSeen }).refreshReuse = { accountId: token?.accountId, clientId: token?.clientId ?? ctx.oidc.client?.clientId };
  });
  provider.use(async (ctx, next) => {
    await next();
    const seen = (ctx.state as { refreshReuse?: ReuseSeen }).refreshReuse;
    if (!seen) return;
    try {
      await audit.append({
        actor: seen.accountId ? { kind: 'citizen', id: seen.accountId } : { kind: 'anonymous' },
        action: 'token.refresh_reuse',
        ...(seen.accountId ? { target: { kind: 'account', id: seen.accountId } } : {}),
        result: 'denied',
        details: { client_id: seen.clientId, grant_revoked: true },
        meta: { ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, requestId: ctx.state?.requestId as string | undefined },
      });
    } catch (failure) {
      // The replay is refused and the login revoked either way; only the record is missing.
      logger.error({ err: failure }, 'could not record a refresh-token replay');
    }
  });
}

interface ReuseSeen {
  accountId: string | undefined;
  clientId: string | undefined;
}
