import type { Provider } from 'oidc-provider';
import type { AuditLog } from '../audit/audit-log.js';
import type { Logger } from '../log.js';
import { inRequest, leaveForRequest } from '../request-scope.js';

/**
 * Refresh-token rotation that survives a lost answer and a duplicate request.
 *
 * A rotating refresh consumes the presented token and saves its successor before the
 * answer is written; if the answer never arrives (a store failing after the successor was
 * saved, a dropped connection) or the app sent the same refresh twice, the token the app
 * still holds is "already used", and a reuse revokes the whole login. So within the reuse
 * interval (REFRESH_TOKEN_REUSE_SECONDS) after its rotation, a rotated token is honoured
 * once more, in this precise sense: the refresh is answered again, with a new access token
 * and with **the same successor** the first rotation made, never a new one. Each token
 * has at most one successor (recorded atomically with the successor's insert), so the
 * grace can never fork the family in two. It ends as soon as the successor is used (the
 * app has shown it holds the newer token) or the interval has passed; a presentation after
 * that is a replay, which revokes the login and is audited as always.
 *
 * The adapter (adapters/durable-artifacts.ts) keeps the rules; this module marks the
 * requests they apply to (token endpoint only: introspection still calls a rotated token
 * inactive) and writes the successor into the answer.
 */
export interface RotationInRequest {
  /** The presented token was rotated before and is honoured once more. */
  retried?: string;
  /** The token this request consumed (or honours once more): the next refresh token saved is its successor. */
  consumed?: string;
  /** The token oidc-provider minted did not become the successor: the answer carries the one that did. */
  answer?: { minted: string; successor: string };
}

const KEY = 'oidc:refresh-rotation';

/** This request's rotation state; undefined outside the token endpoint. */
export function rotationInRequest(): RotationInRequest | undefined {
  return inRequest<RotationInRequest>(KEY);
}

/** Whether this request honours a rotated refresh token once more (it must rotate, to reach its successor). */
export function retryingRotation(): boolean {
  return rotationInRequest()?.retried !== undefined;
}

export function honourRefreshRetries(provider: Provider, deps: { audit: AuditLog; logger: Logger }): void {
  provider.use(async (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== '/token') return next();
    const rotation: RotationInRequest = {};
    leaveForRequest(KEY, rotation);
    await next();
    const body = ctx.body as { refresh_token?: string } | undefined;
    if (rotation.answer && body?.refresh_token === rotation.answer.minted) body.refresh_token = rotation.answer.successor;
    if (!rotation.retried || ctx.status !== 200) return;
    const token = ctx.oidc?.entities.RefreshToken;
    try {
      await deps.audit.append({
        actor: token?.accountId ? { kind: 'citizen', id: token.accountId } : { kind: 'anonymous' },
        action: 'token.refresh_retry',
        ...(token?.accountId ? { target: { kind: 'account', id: token.accountId } } : {}),
        result: 'success',
        details: { client_id: token?.clientId ?? ctx.oidc?.client?.clientId },
        meta: { ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, requestId: ctx.state?.requestId as string | undefined },
      });
    } catch (failure) {
      // The app has its answer; only the record of a second presentation is missing.
      deps.logger.error({ err: failure }, 'could not record a refresh token honoured once more');
    }
  });
}
