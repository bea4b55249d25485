import type { InteractionResults, Provider } from 'oidc-provider';
import type { AuditLog } from '../audit/audit-log.js';
import { AppError } from '../errors.js';

/** The key of an interaction result under which a login carries the credentials it was proven with. */
const CREDENTIALS = 'credentials';

/** The path where the provider resumes an authorization once its interaction has a result. */
const RESUME = /^\/auth\/([^/]+)$/;

/**
 * A login's result, with the credentials it was proven with (the stamp of the first
 * factor: see identity/authentication.ts credentialStamp), for `refuseStaleLogins`.
 */
export function withCredentials(result: InteractionResults, stamp: string | undefined): InteractionResults {
  return stamp === undefined ? result : { ...result, [CREDENTIALS]: { stamp } };
}

/**
 * A login finished its last step with the account as it was; the browser then still has
 * to come back to the provider, which only then makes the session. A counter reset, a
 * recovery, a ban or a deregistration landing in between would otherwise be outlived by
 * a session made after it ended every other. So at the resume the account is asked once
 * more: credentials changed, or the account no longer active, and no session is made
 * (login_restart, audited as a refused login).
 */
export function refuseStaleLogins(provider: Provider, deps: { currentStamp(accountId: string): Promise<string | undefined>; audit: AuditLog }): void {
  provider.use(async (ctx, next) => {
    const uid = ctx.method === 'GET' ? RESUME.exec(ctx.path)?.[1] : undefined;
    if (!uid) return next();
    const interaction = await provider.Interaction.find(uid);
    const result = interaction?.result as (InteractionResults & { [CREDENTIALS]?: { stamp?: string } }) | undefined;
    const accountId = result?.login?.accountId;
    const stamp = result?.[CREDENTIALS]?.stamp;
    if (!interaction || !accountId || stamp === undefined) return next();
    if (await deps.currentStamp(accountId) === stamp) return next();
    await interaction.destroy();
    await deps.audit.append({
      actor: { kind: 'citizen', id: accountId }, action: 'login', target: { kind: 'account', id: accountId }, result: 'denied',
      details: { reason: 'credentials_changed', step: 'resume' },
      meta: { ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, requestId: ctx.state?.requestId as string | undefined },
    });
    throw new AppError('login_restart');
  });
}
